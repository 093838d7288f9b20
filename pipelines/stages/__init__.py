"""The pipeline's stages, one module each, in the order pipelines/run.py runs them: discover, fetch,
extract, dedupe, analyse, check, load, deliver. Each stage is a function of (settings, run) that reads
the previous stage's files in the run's staging folder and writes its own; the DAG runs each as a task."""

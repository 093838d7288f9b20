# Newsmon on the official Airflow image, with our package installed from the hash-locked requirements.
FROM apache/airflow:3.3.2-python3.11
USER airflow
WORKDIR /opt/newsmon
COPY --chown=airflow:root requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY --chown=airflow:root pipelines ./pipelines
COPY --chown=airflow:root sql ./sql
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root scripts ./scripts
COPY --chown=airflow:root config ./config
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e .
# The geocoder's index, built into the image so no task pays its first build (20 s, 800 MB).
RUN python -c "from pipelines import gazetteer; gazetteer.prebuild()"
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/newsmon/dags NEWSMON_DATA_DIR=/opt/newsmon/data

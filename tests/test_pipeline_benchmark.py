"""benchmarks/pipeline.py on a few of the shared pages: it runs the real stages and reports every one of
them, end to end, memory, the NER ceiling and the naive baseline (the full run is in the README)."""

import re
import subprocess
import sys

from pipelines.settings import REPO_ROOT
from tests.conftest import SHARED, needs_shared

pytestmark = needs_shared(SHARED / "eval" / "extraction_trafilatura")


def test_the_benchmark_reports_each_stage_the_ceiling_and_the_baseline():
    out = subprocess.run([sys.executable, "benchmarks/pipeline.py", "--limit", "24", "--nlp-languages", "*"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=True).stdout
    assert re.search(r"yardstick: plain trafilatura\.extract takes [\d.]+ ms", out)
    extracted = int(re.search(r"articles extracted: (\d+)", out)[1])
    assert 18 <= extracted <= 24  # a page or two of the evaluation set has no article to keep
    for stage in ("extract", "dedupe", "analyse", "check", "load"):
        assert re.search(rf"^  {stage} +[\d.]+ s +[\d.]+ pages/s$", out, re.M), stage
    assert re.search(r"given to NER \(\*\): (\d+)", out)[1] == str(extracted)
    assert float(re.search(r"end to end [\d.]+ s: [\d.]+ pages/s, ([\d.]+) articles/s", out)[1]) > 0
    assert int(re.search(r"peak memory: (\d+) MB PSS", out)[1]) > 100
    # Every article went to NER, so the end-to-end rate is set against the ceiling too.
    assert re.search(rf"NER ceiling .*: [\d.]+ s for {extracted} texts", out)
    assert re.search(r"our end to end: [\d.]+ articles/s \(\d+% of the ceiling\)", out)
    assert re.search(r"NER alone in our worker layout .*: [\d.]+ texts/s; our analyse stage \d+% of it, "
                     r"our end to end \d+%", out)
    assert re.search(r"naive baseline .*: [\d.]+ s for 24 pages", out)
    assert re.search(r"ours / naive: [\d.]+x", out)

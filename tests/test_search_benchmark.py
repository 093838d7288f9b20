"""benchmarks/search.py at a tiny size: it builds both databases, indexes them, and reports every figure
(the 1,000,000-article run is in the README)."""

import re
import subprocess
import sys

from benchmarks import search as bench
from pipelines.settings import REPO_ROOT

NUMBER = r"[\d,]+(?:\.\d+)?"


def test_the_benchmark_reports_the_index_the_queries_and_the_daily_indexing():
    # 120 days of data rather than 365: fewer runs to index one by one, and still the 90 days attention reads.
    command = [sys.executable, "benchmarks/search.py", "--articles", "3000", "--span", "120", "--repeat", "2",
               "--days", "1", "--memory-limit", "2GB"]
    out = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True).stdout
    assert re.search(r"^machine: .*duckdb \d", out, re.M)
    for size in ("300", "3,000"):
        # Build, index run by run, whole and compacted, postings; then the size on disk.
        assert re.search(rf"^ *{size} articles( +{NUMBER}){{10}}$", out, re.M), size
        assert re.search(rf"^ *{size} articles( +{NUMBER}){{4}}$", out, re.M), size
    for q in bench.QUERIES:
        # Matches as many as a scan of the text finds, and the planted topics are there to find.
        found = re.search(rf"^search: {re.escape(q)} +({NUMBER}) +({NUMBER}) +{NUMBER} +{NUMBER}  p50 < ", out, re.M)
        assert found and found[1] == found[2] and int(found[1].replace(",", "")) > 0, q
        attention = re.search(rf"^attention: {re.escape(q)} +({NUMBER}) +90 +{NUMBER} +{NUMBER}  p50 < ", out, re.M)
        assert attention and int(attention[1].replace(",", "")) > 0, q
    for size in ("300", "3,000"):
        assert re.search(rf"^ +{size} articles +{NUMBER} +{NUMBER}$", out, re.M), size
    assert re.search(rf"^ +ratio, N to N/10 +{NUMBER} +{NUMBER}  goal for index s: within 20%", out, re.M)
    assert re.search(rf"^fts extension, pragma create_fts_index over all 300 articles: {NUMBER} s", out, re.M)

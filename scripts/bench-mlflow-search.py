"""search_runs at scale, the same data on both servers. `make DIR N` writes N runs (two metrics,
two params, a tag each, as client_bench.py's part b) into DIR/mlflow.db through MLflow's client on
a sqlite:/// URI (much faster than over HTTP); `fusebox import mlflow` copies them into a Fusebox
store; `search URI` then times client_bench.py's query through MLflow's client against a server."""
import statistics, sys, time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

QUERY = "metrics.val_acc > 0.9 and params.method = 'wavg' and tags.team = 'vision'"

if sys.argv[1] == "make":
    work, n = sys.argv[2], int(sys.argv[3])
    mlflow.set_tracking_uri(f"sqlite:///{work}/mlflow.db")
    c = MlflowClient()
    exp = c.create_experiment("search-bench")
    now = int(time.time() * 1000)
    for r in range(n):
        run = c.create_run(exp)
        c.log_batch(run.info.run_id,
                    metrics=[Metric("val_acc", (r % 100) / 100, now, 0), Metric("loss", 1 - (r % 100) / 100, now, 0)],
                    params=[Param("method", ["wavg", "mlp", "stacking"][r % 3]), Param("lr", str([0.01, 0.001][r % 2]))],
                    tags=[RunTag("team", "vision" if r % 5 else "nlp")])
        c.set_terminated(run.info.run_id)
    print(exp)
else:
    mlflow.set_tracking_uri(sys.argv[2])
    c = MlflowClient()
    exp = c.get_experiment_by_name("search-bench").experiment_id
    hits = len(c.search_runs([exp], QUERY, max_results=1000))
    times = []
    for _ in range(10):
        t = time.perf_counter()
        c.search_runs([exp], QUERY, order_by=["metrics.val_acc DESC"], max_results=1000)
        times.append((time.perf_counter() - t) * 1000)
    print(f"search_runs_ms: {statistics.median(times):.4g} ms ({hits} hits; range {min(times):.4g}-{max(times):.4g})")

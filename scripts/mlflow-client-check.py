"""MLflow's own client against `fusebox serve`: every call is MLflow's public API, every value
read back is asserted. Usage: MLFLOW_TRACKING_URI=http://127.0.0.1:PORT MLFLOW_TRACKING_TOKEN=…
python mlflow-client-check.py WORKDIR. Prints one line per check; exits non-zero on the first
failure."""

import hashlib
import json
import os
import struct
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

work = sys.argv[1]
os.makedirs(work, exist_ok=True)
client = MlflowClient()


def check(label, condition, detail=""):
    if not condition:
        print(f"FAIL {label} {detail}", flush=True)
        sys.exit(1)
    print(f"ok   {label}", flush=True)


def safetensors(path, values):
    """A one-tensor safetensors file, written by hand (no extra package needed)."""
    data = struct.pack(f"<{len(values)}f", *values)
    header = json.dumps({"weights": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]}})
    header = header.encode() + b" " * ((8 - len(header) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# Experiments.
experiment_id = mlflow.set_experiment("fusion-experiments").experiment_id
check("set_experiment creates it", client.get_experiment_by_name("fusion-experiments").experiment_id == experiment_id)
try:
    client.create_experiment("fusion-experiments")
    check("a taken name is refused", False)
except MlflowException as e:
    check("a taken name is refused", e.error_code == "RESOURCE_ALREADY_EXISTS", e.error_code)
client.set_experiment_tag(experiment_id, "team", "vision")
check("experiment tag", client.get_experiment(experiment_id).tags.get("team") == "vision")
other = client.create_experiment("scratch")
client.rename_experiment(other, "scratch-renamed")
check("rename", client.get_experiment(other).name == "scratch-renamed")
client.delete_experiment(other)
check("delete", client.get_experiment(other).lifecycle_stage == "deleted")
client.restore_experiment(other)
check("restore", client.get_experiment(other).lifecycle_stage == "active")
names = {e.name for e in client.search_experiments(filter_string="name LIKE 'fusion%'")}
check("search experiments", names == {"fusion-experiments"}, names)

# A run: params, metrics over steps, tags, artifacts.
model_dir = os.path.join(work, "model")
os.makedirs(model_dir, exist_ok=True)
weights = os.path.join(model_dir, "weights.safetensors")
safetensors(weights, [0.25, 0.5, 0.125, 2.0])
with open(os.path.join(model_dir, "MLmodel"), "w") as f:
    f.write("artifact_path: model\nflavors: {}\n")
notes = os.path.join(work, "notes.txt")
with open(notes, "w") as f:
    f.write("trained on the digits views\n")

runs = []
for i, lr in enumerate(["0.01", "0.1", "0.001"]):
    with mlflow.start_run(run_name=f"trial-{i}") as run:
        mlflow.log_param("lr", lr)
        mlflow.log_params({"method": "weighted-average", "epochs": "30"})
        for step in range(5):
            mlflow.log_metric("accuracy", 0.5 + 0.1 * i + 0.01 * step, step=step)
        mlflow.log_metrics({"loss": 1.0 - 0.1 * i}, step=4)
        mlflow.set_tag("team", "vision" if i < 2 else "text")
        mlflow.set_tags({"stage": "tuning"})
        if i == 0:
            mlflow.log_artifact(notes)
            mlflow.log_artifacts(model_dir, artifact_path="model")
        runs.append(run.info.run_id)

first = client.get_run(runs[0])
check("run name", first.info.run_name == "trial-0", first.info.run_name)
check("run finished", first.info.status == "FINISHED", first.info.status)
check("params", first.data.params == {"lr": "0.01", "method": "weighted-average", "epochs": "30"}, first.data.params)
check("latest metric", abs(first.data.metrics["accuracy"] - 0.54) < 1e-9, first.data.metrics)
check("tags", first.data.tags.get("team") == "vision" and first.data.tags.get("stage") == "tuning", first.data.tags)
history = client.get_metric_history(runs[0], "accuracy")
check("metric history", [(m.step, round(m.value, 6)) for m in history] == [(s, round(0.5 + 0.01 * s, 6)) for s in range(5)],
      [(m.step, m.value) for m in history])
client.log_batch(runs[1], metrics=[], params=[], tags=[mlflow.entities.RunTag("reviewed", "yes")])
check("log_batch on an ended run's tags", client.get_run(runs[1]).data.tags.get("reviewed") == "yes")
client.delete_tag(runs[1], "reviewed")
check("delete_tag", "reviewed" not in client.get_run(runs[1]).data.tags)

# Search: MLflow filter strings, ordering, paging.
found = client.search_runs([experiment_id], "metrics.accuracy > 0.6 and tags.team = 'vision'")
check("search by metric and tag", [r.info.run_id for r in found] == [runs[1]], [r.info.run_id for r in found])
found = client.search_runs([experiment_id], "params.lr = '0.001'")
check("search by param", [r.info.run_id for r in found] == [runs[2]])
found = client.search_runs([experiment_id], "attributes.status = 'FINISHED'", order_by=["metrics.accuracy DESC"])
check("order by metric", [r.info.run_id for r in found] == [runs[2], runs[1], runs[0]], [r.info.run_id for r in found])
found = client.search_runs([experiment_id], "attributes.run_name = 'trial-1'")
check("search by run name", [r.info.run_id for r in found] == [runs[1]])
page1 = client.search_runs([experiment_id], max_results=2, order_by=["attributes.start_time ASC"])
page2 = client.search_runs([experiment_id], max_results=2, order_by=["attributes.start_time ASC"], page_token=page1.token)
check("paging", [r.info.run_id for r in page1] + [r.info.run_id for r in page2] == runs and page2.token is None,
      ([r.info.run_id for r in page1], [r.info.run_id for r in page2], page2.token))
frame = mlflow.search_runs(experiment_ids=[experiment_id], filter_string="params.method = 'weighted-average'")
check("mlflow.search_runs (pandas)", len(frame) == 3, len(frame))

# Artifacts.
listed = sorted(a.path for a in client.list_artifacts(runs[0]))
check("list artifacts", listed == ["model", "notes.txt"], listed)
listed = sorted(a.path for a in client.list_artifacts(runs[0], "model"))
check("list a folder", listed == ["model/MLmodel", "model/weights.safetensors"], listed)
got = mlflow.artifacts.download_artifacts(run_id=runs[0], artifact_path="notes.txt", dst_path=os.path.join(work, "dl1"))
check("download an artifact", open(got).read() == "trained on the digits views\n")

# The model registry: a registered model, versions from artifacts, aliases.
client.create_registered_model("digits-image", tags={"owner": "vision"}, description="image branch")
version = mlflow.register_model(f"runs:/{runs[0]}/model", "digits-image")
check("register_model", version.version == "1" and version.run_id == runs[0], (version.version, version.run_id))
second = client.create_model_version("digits-image", f"runs:/{runs[0]}/model", run_id=runs[0], tags={"note": "again"})
check("create_model_version", second.version == "2" and second.tags == {"note": "again"}, second.tags)
client.set_registered_model_alias("digits-image", "production", "1")
check("alias set", client.get_model_version_by_alias("digits-image", "production").version == "1")
client.set_registered_model_alias("digits-image", "production", "2")
check("alias moved", client.get_model_version_by_alias("digits-image", "production").version == "2")
model = client.get_registered_model("digits-image")
check("registered model", model.description == "image branch" and model.tags == {"owner": "vision"}
      and model.aliases == {"production": "2"}, (model.description, model.tags, model.aliases))
client.set_model_version_tag("digits-image", "1", "validated", "true")
check("version tag", client.get_model_version("digits-image", "1").tags.get("validated") == "true")
client.update_model_version("digits-image", "1", description="first cut")
check("version description", client.get_model_version("digits-image", "1").description == "first cut")
versions = client.search_model_versions("name = 'digits-image'")
check("search versions", sorted(v.version for v in versions) == ["1", "2"])
models = [m.name for m in client.search_registered_models(filter_string="name LIKE 'digits%'")]
check("search registered models", models == ["digits-image"], models)
uri = client.get_model_version_download_uri("digits-image", "2")
check("download uri", uri.startswith("mlflow-artifacts:/"), uri)
local = mlflow.artifacts.download_artifacts("models:/digits-image@production", dst_path=os.path.join(work, "dl2"))
check("download by alias, byte for byte", sha256(os.path.join(local, "weights.safetensors")) == sha256(weights))
try:
    client.get_model_version_by_alias("digits-image", "staging")
    check("unknown alias", False)
except MlflowException as e:
    check("unknown alias", e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code)
try:
    client.transition_model_version_stage("digits-image", "1", "Production")
    check("stages are refused", False)
except MlflowException as e:
    check("stages are refused", e.error_code == "INVALID_PARAMETER_VALUE", e.error_code)
client.delete_registered_model_alias("digits-image", "production")
check("alias deleted", client.get_registered_model("digits-image").aliases == {})
client.rename_registered_model("digits-image", "digits-cnn")
check("rename model", client.get_registered_model("digits-cnn").name == "digits-cnn")

# Run deletion, lifecycle and view types.
client.delete_run(runs[2])
check("deleted run hidden", runs[2] not in [r.info.run_id for r in client.search_runs([experiment_id])])
deleted = client.search_runs([experiment_id], run_view_type=mlflow.entities.ViewType.DELETED_ONLY)
check("deleted only", [r.info.run_id for r in deleted] == [runs[2]])
client.restore_run(runs[2])
check("restored", client.get_run(runs[2]).info.lifecycle_stage == "active")

print("mlflow client: all checks passed", flush=True)

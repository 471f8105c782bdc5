import Hummingbird
import RegistryStore

/// The MLflow REST API subset the official client uses, under `/api/2.0/mlflow` and its
/// `/ajax-api/2.0/mlflow` twin, and the artifact proxy under `/api/2.0/mlflow-artifacts`. A
/// translation layer: MLflow's shapes in, Registry calls, MLflow's shapes out. Anything else
/// under these prefixes answers MLflow's `ENDPOINT_NOT_FOUND`.
struct MLflowRoutes {
    let registry: Registry
    let limits: FuseboxServer.Limits

    func add(to router: Router<ServerContext>) {
        for prefix in ["api/2.0/mlflow", "ajax-api/2.0/mlflow"] {
            let group = router.group(RouterPath(prefix))
            MLflowTrackingRoutes(registry: registry).add(to: group)
            MLflowRegistryRoutes(registry: registry, limits: limits).add(to: group)
            MLflowArtifactRoutes(registry: registry, limits: limits).add(tracking: group)
            Self.unsupported(group)
        }
        for prefix in ["api/2.0/mlflow-artifacts", "ajax-api/2.0/mlflow-artifacts"] {
            let group = router.group(RouterPath(prefix))
            MLflowArtifactRoutes(registry: registry, limits: limits).add(artifacts: group)
            Self.unsupported(group)
        }
    }

    static func unsupported(_ group: RouterGroup<ServerContext>) {
        for method: HTTPRequest.Method in [.get, .post, .put, .patch, .delete] {
            group.on("**", method: method) { request, _ -> Response in
                throw MLflowError.endpointNotFound(request.method, request.uri.path)
            }
        }
    }
}

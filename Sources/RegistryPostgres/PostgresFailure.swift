import NIOCore
import NIOPosix
import PostgresNIO
import RegistryStore

/// Turns postgres-nio's errors into one-line `RegistryError`s that name the server and say what
/// to do; the original error stays as the cause (shown with `--verbose`). Messages never hold SQL
/// or a password.
enum PostgresFailure {
    static func map(_ error: any Error, address: PostgresAddress) -> any Error {
        if error is RegistryError { return error }
        let server = "PostgreSQL at \(address.host):\(address.port)"
        guard let psql = error as? PSQLError else {
            return RegistryError(.io, "Cannot reach \(server): \(describe(error)).", cause: error)
        }
        switch psql.code {
        case .server:
            let state = psql.serverInfo?[.sqlState] ?? ""
            let message = psql.serverInfo?[.message] ?? "an error"
            switch state {
            case "28P01", "28000":
                return RegistryError(
                    .invalidInput,
                    "\(server) refused the login of '\(address.user)': \(message). Check the user and password in the URL.",
                    cause: error
                )
            case "3D000":
                return RegistryError(
                    .notFound,
                    "\(server) has no database '\(address.database)'; create it (createdb \(address.database)) or fix the URL.",
                    cause: error
                )
            case "23505":
                return RegistryError(.alreadyExists, "\(server) refused a duplicate: \(message).", cause: error)
            case _ where state.hasPrefix("23"):
                return RegistryError(.conflict, "\(server) refused the change: \(message).", cause: error)
            case "57P01", "57P02", "57P03":
                return lostConnection(server, error)
            case "40001", "40P01":
                return RegistryError(
                    .conflict,
                    "\(server) aborted a transaction that raced another: \(message); try again.",
                    cause: error
                )
            default:
                return RegistryError(.io, "\(server) reported an error: \(message) (SQLSTATE \(state)).", cause: error)
            }
        case .connectionError:
            return RegistryError(
                .io,
                "Cannot connect to \(server): \(describe(psql.underlying ?? error)).",
                cause: error
            )
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return lostConnection(server, error)
        case .sslUnsupported:
            return RegistryError(
                .invalidInput,
                "\(server) does not offer TLS, and the URL says sslmode=require.",
                cause: error
            )
        case .authMechanismRequiresPassword:
            return RegistryError(
                .invalidInput,
                "\(server) asks '\(address.user)' for a password, and the URL has none (postgres://USER:PASSWORD@…).",
                cause: error
            )
        default:
            return RegistryError(.io, "\(server) failed: \(psql.code).", cause: error)
        }
    }

    /// A statement's connection was found closed while its result was still pending.
    static func lostConnection(address: PostgresAddress) -> RegistryError {
        lostConnection("PostgreSQL at \(address.host):\(address.port)", ChannelError.ioOnClosedChannel)
    }

    /// The server went away (restarted, or an administrator ended the session) mid-statement.
    private static func lostConnection(_ server: String, _ error: any Error) -> RegistryError {
        RegistryError(
            .io,
            "Lost the connection to \(server); what was being written was rolled back. Try again when the server is back.",
            cause: error
        )
    }

    /// A short reason for a network error: "connection refused", "timed out", or its description.
    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused (is the server running, and on this port?)"
            case ETIMEDOUT: return "timed out"
            case EHOSTUNREACH, ENETUNREACH: return "host unreachable"
            default: return io.description
            }
        }
        if let connect = error as? NIOConnectionError {
            if let first = connect.connectionErrors.first { return describe(first.error) }
            if connect.dnsAAAAError != nil || connect.dnsAError != nil { return "unknown host '\(connect.host)'" }
            return "no address for '\(connect.host)'"
        }
        if error is ChannelError, case .connectTimeout = error as? ChannelError { return "timed out" }
        return "\(error)"
    }
}

import Yams

/// The routes `openapi.yaml` documents.
enum OpenAPIRoutes {
    struct Entry {
        let method: String
        let path: String
        var route: String { "\(method) \(path)" }
    }

    static func parse(_ yaml: String) -> [Entry] {
        func keys(_ node: Any?) -> [String: Any] {
            ((node as? [AnyHashable: Any]) ?? [:]).reduce(into: [:]) { result, entry in
                if let key = entry.key as? String { result[key] = entry.value }
            }
        }
        let paths = keys(keys(try? Yams.load(yaml: yaml))["paths"])
        let methods = ["get", "post", "put", "patch", "delete"]
        return paths.flatMap { path, item in
            keys(item).keys.filter(methods.contains).map { Entry(method: $0.uppercased(), path: path) }
        }.sorted { $0.route < $1.route }
    }
}

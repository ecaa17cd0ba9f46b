// swift-tools-version:6.2
import PackageDescription

/// One set of settings for every target: Swift 6 language mode (strict concurrency) plus upcoming features.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "sde-broker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sde-broker", targets: ["SDEBroker"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        // The HTTP API; swift-configuration support is not used, so that trait is off.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        // Pure targets: no I/O, testable without a database.
        .target(
            name: "SDECommon",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SDEPolicy",
            dependencies: [
                "SDECommon",
                "SDEDisclosure",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SDEAudit",
            dependencies: ["SDECommon", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Disclosure control; GLPK, the solver behind its attacker audit, is loaded at run time (Debian: libglpk40).
        .target(
            name: "SDEDisclosure",
            dependencies: ["SDECommon"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SDEQuery",
            dependencies: ["SDECommon", "SDEDisclosure", "SDEPolicy"],
            swiftSettings: swiftSettings
        ),
        // I/O targets: files, then PostgreSQL.
        // Policy files: reads a policy directory, writes key files and signs policy files in place.
        .target(
            name: "SDEPolicyFiles",
            dependencies: ["SDECommon", "SDEPolicy"],
            swiftSettings: swiftSettings
        ),
        // Extract files: CSV, NHS numbers, pseudonyms, synthetic data (file I/O, no database).
        .target(
            name: "SDEExtracts",
            dependencies: ["SDECommon", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The only target that talks to PostgreSQL: sessions, migrations, the audit trail and its mirror, tokens,
        // releases, the differencing ledger, the accepted policy versions and the executor, behind the service layer's ports.
        .target(
            name: "SDEStore",
            dependencies: [
                "SDEAudit",
                "SDECommon",
                "SDEDisclosure",
                "SDEExtracts",
                "SDEPolicy",
                "SDEQuery",
                "SDEService",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Development and test clusters: an embedded PostgreSQL under a state directory (initdb, pg_ctl as child processes).
        .target(
            name: "SDEDevCluster",
            dependencies: [
                "SDECommon", "SDEDisclosure", "SDEStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Ingest: validates, pseudonymises and loads extract files into the store (COPY), quarantining bad rows.
        .target(
            name: "SDEIngest",
            dependencies: [
                "SDECommon", "SDEExtracts", "SDEStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the broker does for its users: one audited gate, the protected-query pipeline and the services over
        // it, and the ports (protocols) the store implements. No I/O of its own: tested with fakes.
        .target(
            name: "SDEService",
            dependencies: ["SDEAudit", "SDECommon", "SDEDisclosure", "SDEPolicy", "SDEQuery"],
            swiftSettings: swiftSettings
        ),
        // The HTTP API (Hummingbird 2): routes, authentication, errors and metrics over SDEService.
        .target(
            name: "SDEHTTP",
            dependencies: [
                "SDEAudit", "SDECommon", "SDEPolicy", "SDEService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The web console (Hummingbird 2, Mustache templates): server-rendered pages over SDEService, signed in with an
        // API token exchanged for a server-side session; no JavaScript.
        .target(
            name: "SDEConsole",
            dependencies: [
                "SDEAudit", "SDECommon", "SDEHTTP", "SDEPolicy", "SDEService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Templates"), .copy("Static")],
            swiftSettings: swiftSettings
        ),
        // The application builder: the store, the services and the HTTP API wired as one service group (what `serve`
        // runs and what the HTTP tests build).
        .target(
            name: "SDEServer",
            dependencies: [
                "SDEAudit", "SDECommon", "SDEConsole", "SDEExtracts", "SDEHTTP", "SDEIngest", "SDEPolicy", "SDEPolicyFiles", "SDEService", "SDEStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line: parses arguments and calls the libraries (SDEServer for everything that touches the broker).
        .executableTarget(
            name: "SDEBroker",
            dependencies: [
                "SDEAudit",
                "SDECommon",
                "SDEConsole",
                "SDEDevCluster",
                "SDEExtracts",
                "SDEIngest",
                "SDEPolicy",
                "SDEPolicyFiles",
                "SDEServer",
                "SDEService",
                "SDEStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SDECommonTests", dependencies: ["SDECommon"], swiftSettings: swiftSettings),
        .testTarget(name: "SDEPolicyTests", dependencies: ["SDEExtracts", "SDEPolicy", "SDEPolicyFiles", "SDEServiceFakes"], swiftSettings: swiftSettings),
        .testTarget(name: "SDEAuditTests", dependencies: ["SDEAudit"], swiftSettings: swiftSettings),
        .testTarget(name: "SDEDisclosureTests", dependencies: ["SDEDisclosure"], swiftSettings: swiftSettings),
        .testTarget(name: "SDEQueryTests", dependencies: ["SDEExtracts", "SDEPolicy", "SDEPolicyFiles", "SDEQuery"], swiftSettings: swiftSettings),
        .testTarget(name: "SDEExtractsTests", dependencies: ["SDEExtracts"], swiftSettings: swiftSettings),
        // The integration suite against a real PostgreSQL (a throwaway cluster unless DATABASE_URL is set): the store,
        // ingest, the services over PostgresStore, and the HTTP API through buildApplication.
        .testTarget(
            name: "SDEStoreTests",
            dependencies: [
                "SDEAudit", "SDECommon", "SDEConsoleTestSupport", "SDEDevCluster", "SDEDisclosure", "SDEExtracts", "SDEHTTP", "SDEIngest", "SDEPolicy", "SDEPolicyFiles", "SDEQuery", "SDEServer",
                "SDEService", "SDEStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support, no database: in-memory implementations of the service layer's ports and a small policy set.
        .target(
            name: "SDEServiceFakes",
            dependencies: ["SDEAudit", "SDECommon", "SDEDisclosure", "SDEPolicy", "SDEQuery", "SDEService"],
            path: "Tests/SDEServiceFakes",
            swiftSettings: swiftSettings
        ),
        // The gate and the services over fakes.
        .testTarget(
            name: "SDEServiceTests",
            dependencies: ["SDEAudit", "SDECommon", "SDEDisclosure", "SDEPolicy", "SDEQuery", "SDEService", "SDEServiceFakes"],
            swiftSettings: swiftSettings
        ),
        // The HTTP API over fakes (HummingbirdTesting's router framework), and openapi.yaml against the routes and codes served.
        // Test support: a web-console visitor over HummingbirdTesting (a session cookie and the page's anti-forgery token).
        .target(
            name: "SDEConsoleTestSupport",
            dependencies: [
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/SDEConsoleTestSupport",
            swiftSettings: swiftSettings
        ),
        // The web console over fakes (HummingbirdTesting): pages, escaping, sessions, CSRF, security headers.
        .testTarget(
            name: "SDEConsoleTests",
            dependencies: [
                "SDEAudit", "SDECommon", "SDEConsole", "SDEConsoleTestSupport", "SDEHTTP", "SDEPolicy", "SDEService", "SDEServiceFakes",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SDEHTTPTests",
            dependencies: [
                "SDEAudit", "SDECommon", "SDEDisclosure", "SDEHTTP", "SDEPolicy", "SDEService", "SDEServiceFakes",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// swift-tools-version:6.1
import PackageDescription

/// Settings every Cumulus target shares: Swift 6 language mode is set package-wide below; these
/// upcoming features keep imports honest (`internal import CLMDB` keeps C types out of public API).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Cumulus",
    platforms: [.macOS(.v15)],
    products: [
        /// The event log: `CumulusLog` (the storage protocol, envelopes, hash chain, subscriptions) and
        /// `CumulusLMDB` (the embedded LMDB backend with its group-committing writer). Import both to open a
        /// log in a directory, append, read and follow it.
        .library(name: "Cumulus", targets: ["CumulusLog", "CumulusLMDB"]),
        /// The domain: aggregates, commands, events with their payload encodings, permissions and the
        /// decisions that turn a command into events. Pure values; it knows nothing about storage.
        .library(name: "CumulusDomain", targets: ["CumulusDomain"]),
        /// Runs domain commands on a log: `CommandHandler` catches its write model up, decides, appends with
        /// the expected versions and decides again when another writer got in between.
        .library(name: "CumulusCommands", targets: ["CumulusCommands"]),
        /// Read models built from the log (current state, audit, licences, time in state, reports) and
        /// `ProjectionCatchUp`, which restores their checkpoints and catches them up in bounded batches.
        .library(name: "CumulusProjections", targets: ["CumulusProjections"]),
        /// Temporary logs and the backend conformance suite, for the tests of services that embed Cumulus.
        .library(name: "CumulusTesting", targets: ["CumulusTesting"]),
        /// The HTTP backend (`cumulus serve`): live state over Hummingbird, Azure AD sign-in, the permission matrix.
        .library(name: "CumulusServer", targets: ["CumulusServer"]),
        /// The OData v4 reporting feed (request in, status/headers/body out; no HTTP server inside).
        .library(name: "CumulusOData", targets: ["CumulusOData"]),
        /// The event log on PostgreSQL, for several servers sharing one log (docs/postgres.md).
        .library(name: "CumulusPostgres", targets: ["CumulusPostgres"]),
        .executable(name: "cumulus", targets: ["cumulus"]),
    ],
    dependencies: [
        // 3.x or 4.x: jwt-kit 5 (the server's sign-in) needs swift-crypto 4.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        // Logging and metrics hooks: silent unless the embedder bootstraps a backend.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // `swift package generate-documentation` (Tools/scripts/docs.sh); a plugin, nothing is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
        // The server (`CumulusServer`): HTTP, lifecycle, Prometheus metrics, JWT sign-in.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        // The PostgreSQL backend (`CumulusPostgres`, docs/postgres.md).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
        // Already built for Hummingbird; named for the HTTP part types of the server's slow-request handler.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .target(
            name: "CumulusLog",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "CumulusLMDB",
            dependencies: [
                "CLMDB", "CumulusLog", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "CumulusDomain", dependencies: ["CumulusLog"]),
        .target(
            name: "CumulusCommands",
            dependencies: [
                "CumulusDomain", "CumulusLog", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "CumulusTesting", dependencies: ["CumulusLog", "CumulusLMDB"]),
        /// The demo world's generator, shared by `cumulus demo` and `cumulus-bench rebuild` (the real mix).
        .target(name: "CumulusDemo", dependencies: ["CumulusDomain", "CumulusLog"]),
        .target(
            name: "CumulusPostgres",
            dependencies: [
                "CumulusLog",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "CumulusProjections",
            dependencies: [
                "CumulusLog", "CumulusDomain", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Projections",
            exclude: ["README.md"]
        ),
        .target(
            name: "CumulusServer",
            dependencies: [
                "CumulusLog", "CumulusLMDB", "CumulusPostgres", "CumulusDomain", "CumulusCommands",
                "CumulusProjections", "CumulusOData",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            resources: [.copy("openapi.json")]
        ),
        .target(
            name: "CumulusOData",
            dependencies: [
                "CumulusLog", "CumulusDomain", "CumulusProjections", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "cumulus",
            dependencies: [
                "CumulusLog", "CumulusLMDB", "CumulusDomain", "CumulusCommands", "CumulusProjections", "CumulusServer",
                "CumulusDemo", "CumulusOData", "CumulusPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tools/cumulus"
        ),
        .executableTarget(
            name: "cumulus-pg-torture",
            dependencies: ["CumulusLog", "CumulusPostgres"],
            path: "Tools/cumulus-pg-torture"
        ),
        .executableTarget(
            name: "cumulus-torture",
            dependencies: ["CumulusLog", "CumulusLMDB"],
            path: "Tools/cumulus-torture"
        ),
        .systemLibrary(
            name: "CSQLite", path: "Benchmarks/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .executableTarget(
            name: "cumulus-bench",
            dependencies: [
                "CLMDB", "CSQLite", "CumulusLog", "CumulusLMDB", "CumulusDomain", "CumulusCommands",
                "CumulusProjections", "CumulusDemo", "CumulusPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Benchmarks/cumulus-bench"
        ),
        .testTarget(name: "CumulusDomainTests", dependencies: ["CumulusDomain", "CumulusLog"], exclude: ["Fixtures"]),
        .testTarget(
            name: "CumulusProjectionsTests", dependencies: ["CumulusProjections", "CumulusDomain", "CumulusLog"]),
        .testTarget(
            name: "CumulusCommandsTests",
            dependencies: [
                "CumulusCommands", "CumulusDemo", "CumulusDomain", "CumulusLog", "CumulusLMDB", "CumulusProjections",
                "CumulusTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "CumulusODataTests",
            dependencies: ["CumulusOData", "CumulusProjections", "CumulusDomain", "CumulusLog"]),
        .testTarget(name: "CumulusLogTests", dependencies: ["CumulusLog", "CumulusTesting"]),
        .testTarget(
            name: "CumulusLMDBTests",
            dependencies: [
                "CLMDB", "CumulusLMDB", "CumulusLog", "CumulusTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "CumulusServerTests",
            dependencies: [
                "CumulusServer", "CumulusDomain", "CumulusLog", "CumulusLMDB", "CumulusCommands", "CumulusTesting",
                "CumulusPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "CumulusCLITests", dependencies: ["CumulusLog", "CumulusLMDB", "CumulusTesting"]),
        .testTarget(
            name: "CumulusPostgresTests",
            dependencies: [
                "CumulusPostgres", "CumulusLog", "CumulusLMDB", "CumulusTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + strictSettings
}

// swift-tools-version:6.1
import PackageDescription

/// An application that embeds Cumulus the way the README says: it depends on the package by path and uses
/// only its products. `Tools/scripts/example.sh` builds and runs it; CI calls that script.
let package = Package(
    name: "EmbeddingExample",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Cumulus", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "EmbeddingExample",
            dependencies: [
                .product(name: "Cumulus", package: "Cumulus"),
                .product(name: "CumulusDomain", package: "Cumulus"),
                .product(name: "CumulusCommands", package: "Cumulus"),
                .product(name: "CumulusProjections", package: "Cumulus"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)

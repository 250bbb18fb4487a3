// swift-tools-version: 6.0
// The benchmark suite: a package of its own so that CI (which builds the root package) never builds it.
// Build: `swift build -c release` in this folder (scratch path Benchmarks/.build, ignored by git).
import PackageDescription

let package = Package(
    name: "fpprof-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "fpprof", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "fpprof-bench",
            dependencies: [
                .product(name: "FPProfCore", package: "fpprof"),
                .product(name: "FPProfSymbols", package: "fpprof"),
                .product(name: "FPProfEngine", package: "fpprof"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)

struct RegistryBenchmark { let options: BenchOptions; func run() async throws { fatalError("registry benchmark arrives with the store") } }

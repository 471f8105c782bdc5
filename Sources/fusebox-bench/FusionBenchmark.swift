struct FusionBenchmark { let options: BenchOptions; func run() throws { fatalError("fusion benchmark arrives with the fusion engine") } }

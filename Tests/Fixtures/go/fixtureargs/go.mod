module fpprof.test/fixtureargs

go 1.19

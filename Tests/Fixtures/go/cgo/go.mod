module cgofixture

go 1.19

require fpprof.test/fixtureargs v0.0.0

replace fpprof.test/fixtureargs => ../fixtureargs

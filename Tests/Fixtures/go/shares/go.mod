module sharesfixture

go 1.19

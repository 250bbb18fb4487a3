module mcallbugfixture

go 1.19

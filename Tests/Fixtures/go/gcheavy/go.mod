module gcheavyfixture

go 1.19

// This folder is the Node.js client suite, not Go code. The go.mod keeps
// clients/node_modules out of the main module, so `go test ./...` and
// `go vet ./...` never read Go files an npm package might ship.
module salvo.invalid/clients

go 1.26

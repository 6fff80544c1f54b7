// Package mgapi is Mailgun's contract as data: the JSON shapes Salvo
// answers and stores (events, delivery-status, lists, stats, templates,
// domains, keys, IPs…), Mailgun's date formats, and the decoding of the
// request parameters Mailgun clients send (Params, the Flex types).
//
// It is a leaf: it imports only the standard library and package fault
// (a bad parameter is a fault.Invalid with Mailgun's text, a body over the
// limit a fault.TooLarge). It knows nothing of servers or stores, so the
// HTTP API, the dashboard, the use cases that build events, and the tests
// all share one definition, and store types never leak into JSON.
//
// Params lives here rather than in the HTTP edge because it is the
// "tolerant in" half of the contract: the same o:/h:/v: parameters arrive
// as multipart, urlencoded, JSON or query strings, and use cases that take
// Mailgun's parameters (send options, list members, stats queries) read
// them through one type. ParseParams takes an *http.Request (standard
// library only); everything else works on url.Values.
//
// Tolerant in, exact out: booleans arrive as yes/no/true/false in any
// case, and JSON bodies may hold numbers where strings are meant and back
// (flex.go); a parameter an endpoint does not know is ignored and recorded
// (Params.Accept), never refused, as Mailgun does. Every shape marshals to
// exactly the keys and types Mailgun's clients decode.
package mgapi

package mgapi_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/salvo-email/salvo/internal/mgapi"
)

// TestFlexTypes: each Flex type takes the spellings Mailgun's SDKs send
// for it and refuses what is neither.
func TestFlexTypes(t *testing.T) {
	t.Parallel()
	type doc struct {
		S  mgapi.FlexString  `json:"s"`
		SS mgapi.FlexStrings `json:"ss"`
		B  mgapi.FlexBool    `json:"b"`
		I  mgapi.FlexInt     `json:"i"`
	}
	for _, c := range []struct {
		in   string
		want doc
	}{
		{`{"s":"550","ss":["a","b"],"b":true,"i":10}`, doc{"550", mgapi.FlexStrings{"a", "b"}, true, 10}},
		{`{"s":550,"ss":"a","b":"yes","i":"10"}`, doc{"550", mgapi.FlexStrings{"a"}, true, 10}},
		{`{"s":1700000000.5,"ss":[7],"b":"False","i":" 3 "}`, doc{"1700000000.5", mgapi.FlexStrings{"7"}, false, 3}},
		{`{"s":true,"b":1,"i":""}`, doc{S: "true", B: true}},
		{`{"s":null,"ss":null,"b":null,"i":null}`, doc{}},
	} {
		var got doc
		if err := json.Unmarshal([]byte(c.in), &got); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`{"s":{"x":1}}`, `{"ss":[{}]}`, `{"b":"maybe"}`, `{"b":2}`, `{"i":"ten"}`, `{"i":1.5}`, `{"i":[1]}`} {
		var got doc
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", bad, got)
		}
	}
	// Exact out: each encodes as its Go kind.
	out, _ := json.Marshal(doc{"550", mgapi.FlexStrings{"a"}, true, 10})
	if string(out) != `{"s":"550","ss":["a"],"b":true,"i":10}` {
		t.Errorf("Marshal = %s", out)
	}
}

// TestMetricsRequestScalars: a metrics query with string numbers, string
// booleans and epoch numbers decodes like the typed one.
func TestMetricsRequestScalars(t *testing.T) {
	t.Parallel()
	var a, b mgapi.MetricsRequest
	if err := json.Unmarshal([]byte(`{"start":"1700000000","duration":"1d","metrics":["delivered_count"],"include_aggregates":true,"pagination":{"skip":2,"limit":5}}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"start":1700000000,"duration":"1d","metrics":["delivered_count"],"include_aggregates":"yes","pagination":{"skip":"2","limit":"5"}}`), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || a.Pagination.Limit != 5 || !a.Aggregates || a.Start != "1700000000" || len(a.Metrics) != 1 {
		t.Errorf("typed %+v\nloose %+v", a, b)
	}
}

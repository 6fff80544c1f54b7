package lists

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseJSONMembers(t *testing.T) {
	t.Parallel()
	ms, err := ParseJSONMembers(`["Bob <Bob@X.test>", "c@x.test",
		{"address": "d@x.test", "name": "Dee", "vars": {"a": 1}, "subscribed": false},
		{"address": "e@x.test", "vars": "{\"b\": \"two\"}", "subscribed": "no"},
		{"address": "f@x.test", "vars": null}]`)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(ms))
	for i, m := range ms {
		got[i] = fmt.Sprintf("%s|%s|%v|%v", m.Address, m.Name, m.Vars, m.Subscribed)
	}
	want := "bob@x.test|Bob|map[]|true c@x.test||map[]|true d@x.test|Dee|map[a:1]|false e@x.test||map[b:two]|false f@x.test||map[]|true"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
	for _, bad := range []string{`{}`, `["not an address"]`, `[{"address": "a@x.test", "vars": [1]}]`,
		`[{"address": "a@x.test", "subscribed": "maybe"}]`, `[42]`} {
		if _, err := ParseJSONMembers(bad); err == nil {
			t.Errorf("ParseJSONMembers(%s) accepted", bad)
		}
	}
}

func TestParseCSVMembers(t *testing.T) {
	t.Parallel()
	ms, err := ParseCSVMembers(strings.NewReader("Name,Address,Subscribed,Vars\nAnn,ann@x.test,,\"{\"\"k\"\": 1}\"\n,bob@x.test,no,\n\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Address != "ann@x.test" || ms[0].Name != "Ann" || !ms[0].Subscribed || ms[0].Vars["k"] != float64(1) ||
		ms[1].Subscribed {
		t.Fatalf("with a header row: %+v", ms)
	}
	ms, err = ParseCSVMembers(strings.NewReader("a@x.test,Al\nb@x.test\n"), false)
	if err != nil || len(ms) != 2 || ms[0].Name != "Al" || ms[0].Subscribed || ms[1].Address != "b@x.test" {
		t.Fatalf("without a header row: %+v, %v", ms, err)
	}
	if _, err := ParseCSVMembers(strings.NewReader("address\nnope\n"), true); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Fatalf("bad address: %v", err)
	}
}

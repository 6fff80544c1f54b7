package mgapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Mailgun's SDKs type the same field differently: mailgun.js sends a
// bounce's code as the number 550 where mailgun-go sends "550", JS
// booleans where forms carry "yes", epoch numbers where others send date
// text. The Flex types decode a JSON body member from any of those
// spellings (tolerant in) and encode as their Go kind (exact out).

// FlexString is a string that a JSON number or boolean may also give, as
// its text ("code": 550 is "550"). null leaves it empty.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	case string(b) == "true" || string(b) == "false":
		*f = FlexString(b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %s", abbreviate(b))
		}
		*f = FlexString(n.String())
	}
	return nil
}

// FlexStrings is a list of strings that one string or number may also
// give (a single tag where a list is expected).
type FlexStrings []string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []FlexString
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		out := make([]string, len(items))
		for i, s := range items {
			out[i] = string(s)
		}
		*f = out
		return nil
	}
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = nil
	if s != "" {
		*f = FlexStrings{string(s)}
	}
	return nil
}

// FlexBool is a boolean that "yes"/"no", "true"/"false" (any case) and
// the numbers 1/0 may also give. null is false.
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexBool) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want a boolean, got %s", abbreviate(b))
	}
	if s == "" {
		*f = false
		return nil
	}
	v, ok := ParseBool(string(s))
	if !ok {
		return fmt.Errorf("want a boolean (true, false, yes or no), got %s", abbreviate(b))
	}
	*f = FlexBool(v)
	return nil
}

// FlexInt is an integer that a numeric string may also give ("limit":
// "10"). null and "" are 0.
type FlexInt int

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want an integer, got %s", abbreviate(b))
	}
	if strings.TrimSpace(string(s)) == "" {
		*f = 0
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(s)))
	if err != nil {
		return fmt.Errorf("want an integer, got %s", abbreviate(b))
	}
	*f = FlexInt(n)
	return nil
}

func abbreviate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

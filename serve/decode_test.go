package serve

import (
	"net/http"
	"testing"

	"github.com/campc/campc/stdlib"
)

func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct {
		method, query, ctype, body string
		wantMethod, wantCode       string
		param, value               string
	}{
		{"GET", "filterType=email&filterValues=a%40b.c", "", "", "GET", "", "filterType", "email"},
		{"POST", "_method=GET", "application/x-www-form-urlencoded", "filterType=id&filterValues=1,2", "GET", "", "filterValues", "1,2"},
		{"POST", "", "application/x-www-form-urlencoded", "_method=GET&fields=email", "GET", "", "fields", "email"},
		{"POST", "", "application/json", `{"_method": "GET", "filterValues": [1, 2], "batchSize": 10}`, "GET", "", "filterValues", "1,2"},
		{"POST", "", "application/json", `{"input": []}`, "POST", "", "", ""},
		{"POST", "", "application/json", `{"input": [}`, "", "609", "", ""},
		{"POST", "", "application/json", `[]`, "", "609", "", ""},
		{"POST", "", "application/json", `{} {}`, "", "609", "", ""},
		{"POST", "", "application/json", "{\"a\": \"\xff\"}", "", "609", "", ""},
		{"POST", "", "application/x-www-form-urlencoded", "a=1", "", "609", "", ""},
		{"POST", "", "application/json", `{"_method": "GET", "x": {"y": 1}}`, "", "1001", "", ""},
		{"GET", "a=%zz", "", "", "", "1001", "", ""},
		{"POST", "_method", "", "", "", "1001", "", ""},
		{"POST", "_method=PUT", "application/json", `{}`, "", "1001", "", ""},
		{"POST", "", "application/x-www-form-urlencoded", "_method=DELETE&a=1", "", "1001", "", ""},
		{"POST", "", "application/json", `{"_method": "POST"}`, "", "1001", "", ""},
	} {
		r, err := decodeRequest(tc.method, tc.query, tc.ctype, []byte(tc.body))
		if tc.wantCode != "" {
			if err == nil || err.Code != tc.wantCode || err.Message == "" {
				t.Errorf("%s %q %q: %v, want %s", tc.method, tc.query, tc.body, err, tc.wantCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q %q: %v", tc.method, tc.query, tc.body, err)
			continue
		}
		if r.Method != tc.wantMethod || (tc.param != "" && r.param(tc.param) != tc.value) || r.Params.Has("_method") {
			t.Errorf("%s %q %q: %s %v", tc.method, tc.query, tc.body, r.Method, r.Params)
		}
	}
}

// FuzzDecodeRequest: any request decodes to a request or an error with a
// code and a message, never a panic.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("POST", "_method=GET", "application/json", []byte(`{"filterValues": [1, "a", true]}`))
	f.Add("POST", "", "application/x-www-form-urlencoded", []byte("_method=GET&a=b"))
	f.Add("GET", "a=b&c=%20", "", []byte(nil))
	f.Add("DELETE", "id=1,2", "application/json", []byte(`{"input": [{"id": 1}]}`))
	f.Fuzz(func(t *testing.T, method, query, ctype string, body []byte) {
		r, err := decodeRequest(method, query, ctype, body)
		if err != nil {
			if err.Code == "" || err.Message == "" {
				t.Fatalf("an error without a code or message: %+v", err)
			}
			return
		}
		if r.Method == http.MethodGet && r.Body != nil {
			t.Fatal("a GET with a body")
		}
		if r.Params.Has("_method") {
			t.Fatal("_method left in the parameters")
		}
	})
}

// Every activity type campc writes has an API type id, and ids are
// unique; Marketo's standard ones keep Marketo's ids.
func TestActivityTypeIDs(t *testing.T) {
	names := append([]string{}, stdlib.EngineActivities...)
	for _, s := range stdlib.Steps {
		if s.Name != "" { // if writes no activity of its own
			names = append(names, s.Name)
		}
	}
	for _, n := range names {
		if typeByName[n].ID == 0 {
			t.Errorf("activity type %q has no id", n)
		}
	}
	seen := map[int]string{}
	for _, ty := range activityTypeTable {
		if prev, dup := seen[ty.ID]; dup {
			t.Errorf("id %d is %q and %q", ty.ID, prev, ty.Name)
		}
		seen[ty.ID] = ty.Name
	}
	for name, id := range map[string]int{stdlib.ActNewPerson: 12, stdlib.ActChangeDataValue: 13, stdlib.ActChangeScore: 22,
		stdlib.ActAddToList: 24, stdlib.ActRemoveFromList: 25, stdlib.ActFillOutForm: 2, stdlib.ActRequestCampaign: 47, stdlib.ActSendEmail: 6} {
		if typeByName[name].ID != id {
			t.Errorf("%s: id %d, Marketo's is %d", name, typeByName[name].ID, id)
		}
	}
}

package storage

import (
	"encoding/json"
	"io"
	"time"
)

// jsonActivity is an activity as the log contract (language.md, "log")
// writes it: one JSON object per line, time in UTC RFC 3339, attributes an
// object with sorted keys. Every JSON log (campc run --format json, the
// golden logs of the tests) is written by WriteJSONLog, so there is one
// definition of the form.
type jsonActivity struct {
	Seq        int64  `json:"seq"`
	Time       string `json:"time"`
	Person     string `json:"person"`
	Type       string `json:"type"`
	Campaign   string `json:"campaign"`
	Primary    string `json:"primary"`
	Attributes Attrs  `json:"attributes"`
}

// WriteJSONLog writes acts, one JSON object per line. HTML characters are
// not escaped: the log is read by people and tools, not by browsers.
func WriteJSONLog(w io.Writer, acts []*Activity) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, a := range acts {
		attrs := a.Attributes
		if attrs == nil {
			attrs = Attrs{}
		}
		if err := enc.Encode(jsonActivity{Seq: a.Seq, Time: a.Time.UTC().Format(time.RFC3339), Person: a.Person,
			Type: a.Type, Campaign: a.Campaign, Primary: a.Primary, Attributes: attrs}); err != nil {
			return err
		}
	}
	return nil
}

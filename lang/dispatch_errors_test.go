package lang

import (
	"fmt"
	"testing"
)

// dispatchErrorCases are sources with a wrong token right after each word
// on which a union dispatches, and after the first words that several
// alternatives share.
func dispatchErrorCases() map[string]string {
	out := map[string]string{}
	decl := func(s string) string { return "workspace \"W\"\n" + s + "\n" }
	item := func(s string) string { return decl("batch campaign \"C\" {\n  " + s + "\n}") }
	sli := func(s string) string { return item("smart list {\n    " + s + "\n  }") }
	step := func(s string) string { return item("flow {\n    " + s + "\n  }") }
	for _, w := range []string{"field", "partition", "folder", "program", "statuses", "token", "list", "smart", "email", "webhook", "form", "web", "batch", "trigger", "executable", "workspace", "Zzz", "smart list", "program \"P\" clone"} {
		out["decl "+w] = decl(w + " 42")
		out["decl "+w+" brace"] = decl(w + " }")
	}
	for _, w := range []string{"smart", "flow", "run", "active", "inactive", "qualify", "description", "Zzz", "smart list", "run every", "qualify every"} {
		out["item "+w] = item(w + " 42")
	}
	for _, w := range []string{"trigger", "filter", "logic", "Zzz", "trigger data", "trigger campaign", "trigger email", "logic 1 and"} {
		out["smart "+w] = sli(w + " 42")
	}
	for _, w := range []string{"not", "member", "random", "campaign", "was", "filled", "data", "opened", "clicked", "visited", "email", "unsubscribed", "Zzz", "not member", "not was", "was sent", "Country is", "Country is not", "Country not", "Country in", "member of", "random sample"} {
		out["filter "+w] = sli("filter " + w + " 42")
		out["if "+w] = step("if " + w + " 42 {\n    }")
	}
	for _, w := range []string{"change", "add", "remove", "send", "interesting", "wait", "call", "request", "execute", "delete", "if", "else", "sync", "create", "Zzz",
		"change score", "change data", "change program", "change person", "change owner", "change data value X to",
		"add to", "add interesting", "add to engagement", "remove from", "send alert", "wait until", "if LeadScore > 1 { } else"} {
		out["step "+w] = step(w + " 42")
		out["step "+w+" brace"] = step(w + " {")
	}
	return out
}

// dispatchErrorWant are the diagnostics of dispatchErrorCases as the
// parser gave them before it dispatched on first words (commit 8b371e2):
// line:col-line:col code message, or NONE 0 for a file that parses.
var dispatchErrorWant = map[string]string{
	"decl Zzz":                             "NONE 0",
	"decl Zzz brace":                       "2:5-2:6 syntax unexpected \"}\"",
	"decl batch":                           "2:7-2:9 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl batch brace":                     "2:7-2:8 syntax unexpected \"}\"; expected \"campaign\" a quoted name ((\"clone\" a quoted campaign name) | \"{\")",
	"decl email":                           "2:7-2:9 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl email brace":                     "2:7-2:8 syntax unexpected \"}\"; expected a quoted name \"{\" EmailItem* \"}\"",
	"decl executable":                      "2:12-2:14 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl executable brace":                "2:12-2:13 syntax unexpected \"}\"; expected \"campaign\" a quoted name ((\"clone\" a quoted campaign name) | \"{\")",
	"decl field":                           "2:7-2:9 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl field brace":                     "2:7-2:8 syntax unexpected \"}\"; expected a name a name a quoted name?",
	"decl folder":                          "2:8-2:10 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl folder brace":                    "2:8-2:9 syntax unexpected \"}\"; expected a quoted name \"{\" Decl* \"}\"",
	"decl form":                            "2:6-2:8 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl form brace":                      "2:6-2:7 syntax unexpected \"}\"; expected a quoted name",
	"decl list":                            "2:6-2:8 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl list brace":                      "2:6-2:7 syntax unexpected \"}\"; expected a quoted name",
	"decl partition":                       "2:11-2:13 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl partition brace":                 "2:11-2:12 syntax unexpected \"}\"; expected a quoted name (\",\" a quoted name)*",
	"decl program":                         "2:9-2:11 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl program \"P\" clone":             "2:19-2:21 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl program \"P\" clone brace":       "2:19-2:20 syntax unexpected \"}\"; expected a quoted campaign name (\"{\" Decl* \"}\")?",
	"decl program brace":                   "2:9-2:10 syntax unexpected \"}\"; expected a quoted name ((\"clone\" a quoted campaign name (\"{\" Decl* \"}\")?) | (\"{\" Decl* \"}\"))",
	"decl smart":                           "2:7-2:9 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl smart brace":                     "2:7-2:8 syntax unexpected \"}\"; expected \"list\" a quoted name \"{\" SmartListItem* \"}\"",
	"decl smart list":                      "2:12-2:14 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl smart list brace":                "2:12-2:13 syntax unexpected \"}\"; expected a quoted name \"{\" SmartListItem* \"}\"",
	"decl statuses":                        "2:10-2:12 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl statuses brace":                  "2:10-2:11 syntax unexpected \"}\"; expected StatusName (\",\" StatusName)*",
	"decl token":                           "2:7-2:9 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl token brace":                     "2:7-2:8 syntax unexpected \"}\"; expected a quoted name a name a quoted name",
	"decl trigger":                         "2:9-2:11 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl trigger brace":                   "2:9-2:10 syntax unexpected \"}\"; expected \"campaign\" a quoted name ((\"clone\" a quoted campaign name) | \"{\")",
	"decl web":                             "2:5-2:7 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl web brace":                       "2:5-2:6 syntax unexpected \"}\"; expected \"page\" a quoted name",
	"decl webhook":                         "2:9-2:11 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl webhook brace":                   "2:9-2:10 syntax unexpected \"}\"; expected a quoted name \"{\" WebhookItem* \"}\"",
	"decl workspace":                       "2:11-2:13 syntax unexpected \"42\"; expected a name DeclTok* \"{\"?",
	"decl workspace brace":                 "2:11-2:12 syntax unexpected \"}\"; expected \"campaign\" a quoted name ((\"clone\" a quoted campaign name) | \"{\")",
	"filter Country in":                    "4:23-4:25 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter Country is":                    "NONE 0",
	"filter Country is not":                "NONE 0",
	"filter Country not":                   "4:24-4:26 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter Zzz":                           "4:16-4:18 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter campaign":                      "4:21-4:23 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter clicked":                       "4:20-4:22 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter data":                          "4:17-4:19 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter email":                         "4:18-4:20 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter filled":                        "4:19-4:21 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter member":                        "4:19-4:21 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter member of":                     "4:22-4:24 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter not":                           "4:16-4:18 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter not member":                    "4:23-4:25 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter not was":                       "4:20-4:22 syntax unexpected \"42\"; expected an activity filter after \"was\" (was sent email \"E\", was added to list \"L\", …)",
	"filter opened":                        "4:19-4:21 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter random":                        "4:19-4:21 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter random sample":                 "5:3-5:4 syntax unexpected \"}\"; expected \"percent\"",
	"filter unsubscribed":                  "4:25-4:27 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter visited":                       "4:20-4:22 syntax unexpected \"42\"; expected a name SLineTok*",
	"filter was":                           "4:16-4:18 syntax unexpected \"42\"; expected an activity filter after \"was\" (was sent email \"E\", was added to list \"L\", …)",
	"filter was sent":                      "4:21-4:23 syntax unexpected \"42\"; expected a name SLineTok*",
	"if Country in":                        "4:19-4:21 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if Country is":                        "NONE 0",
	"if Country is not":                    "NONE 0",
	"if Country not":                       "4:20-4:22 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if Zzz":                               "4:12-4:14 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if campaign":                          "4:17-4:19 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if clicked":                           "4:16-4:18 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if data":                              "4:13-4:15 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if email":                             "4:14-4:16 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if filled":                            "4:15-4:17 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if member":                            "4:15-4:17 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if member of":                         "4:18-4:20 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if not":                               "4:12-4:14 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if not member":                        "4:19-4:21 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if not was":                           "4:16-4:18 syntax unexpected \"42\"; expected an activity filter after \"was\" (was sent email \"E\", was added to list \"L\", …)",
	"if opened":                            "4:15-4:17 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if random":                            "4:15-4:17 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if random sample":                     "4:25-4:26 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"if unsubscribed":                      "4:21-4:23 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if visited":                           "4:16-4:18 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"if was":                               "4:12-4:14 syntax unexpected \"42\"; expected an activity filter after \"was\" (was sent email \"E\", was added to list \"L\", …)",
	"if was sent":                          "4:17-4:19 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"item Zzz":                             "NONE 0",
	"item active":                          "3:10-3:12 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item description":                     "3:15-3:17 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item flow":                            "3:8-3:10 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item inactive":                        "3:12-3:14 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item qualify":                         "3:11-3:13 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item qualify every":                   "3:17-3:19 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item run":                             "3:7-3:9 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item run every":                       "4:1-4:2 syntax unexpected \"}\"; expected a name",
	"item smart":                           "3:9-3:11 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"item smart list":                      "3:14-3:16 syntax unexpected \"42\"; expected a name ItemTok* \"{\"?",
	"smart Zzz":                            "NONE 0",
	"smart filter":                         "4:12-4:14 syntax unexpected \"42\"; expected a name SLineTok*",
	"smart logic":                          "NONE 0",
	"smart logic 1 and":                    "NONE 0",
	"smart trigger":                        "4:13-4:15 syntax unexpected \"42\"; expected a name SLineTok*",
	"smart trigger campaign":               "4:22-4:24 syntax unexpected \"42\"; expected a name SLineTok*",
	"smart trigger data":                   "4:18-4:20 syntax unexpected \"42\"; expected a name SLineTok*",
	"smart trigger email":                  "4:19-4:21 syntax unexpected \"42\"; expected a name SLineTok*",
	"step Zzz":                             "NONE 0",
	"step Zzz brace":                       "7:1-7:2 syntax unexpected end of file; expected \"}\"",
	"step add":                             "4:9-4:11 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step add brace":                       "4:9-4:10 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step add interesting":                 "4:21-4:23 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step add interesting brace":           "4:21-4:22 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step add to":                          "4:12-4:14 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step add to brace":                    "4:12-4:13 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step add to engagement":               "4:23-4:25 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step add to engagement brace":         "4:23-4:24 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step call":                            "4:10-4:12 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step call brace":                      "4:10-4:11 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step change":                          "4:12-4:14 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step change brace":                    "4:12-4:13 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step change data":                     "4:17-4:19 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step change data brace":               "4:17-4:18 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step change data value X to":          "NONE 0",
	"step change data value X to brace":    "4:28-4:29 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step change owner":                    "4:18-4:20 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step change owner brace":              "4:18-4:19 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step change person":                   "4:19-4:21 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step change person brace":             "4:19-4:20 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step change program":                  "4:20-4:22 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step change program brace":            "4:20-4:21 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step change score":                    "4:18-4:20 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step change score brace":              "4:18-4:19 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step create":                          "4:12-4:14 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step create brace":                    "4:12-4:13 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step delete":                          "4:12-4:14 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step delete brace":                    "4:12-4:13 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step else":                            "4:5-4:9 syntax unexpected \"else\"",
	"step else brace":                      "4:5-4:9 syntax unexpected \"else\"",
	"step execute":                         "4:13-4:15 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step execute brace":                   "4:13-4:14 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step if":                              "4:8-4:10 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step if LeadScore > 1 { } else":       "4:26-4:30 syntax unexpected \"else\"",
	"step if LeadScore > 1 { } else brace": "7:1-7:2 syntax unexpected end of file; expected \"}\"",
	"step if brace":                        "4:8-4:9 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step interesting":                     "4:17-4:19 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step interesting brace":               "4:17-4:18 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step remove":                          "4:12-4:14 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step remove brace":                    "4:12-4:13 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step remove from":                     "4:17-4:19 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step remove from brace":               "4:17-4:18 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step request":                         "4:13-4:15 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step request brace":                   "4:13-4:14 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step send":                            "4:10-4:12 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step send alert":                      "4:16-4:18 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step send alert brace":                "4:16-4:17 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step send brace":                      "4:10-4:11 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step sync":                            "4:10-4:12 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step sync brace":                      "4:10-4:11 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step wait":                            "5:3-5:4 syntax unexpected \"}\"; expected a name",
	"step wait brace":                      "4:10-4:11 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
	"step wait until":                      "4:16-4:18 syntax unexpected \"42\"; expected a name StepTok* \"{\"?",
	"step wait until brace":                "4:16-4:17 syntax unexpected \"{\"; expected a name StepTok* \"{\"?",
}

// TestDispatchSyntaxErrors: a wrong token after a word on which a union
// dispatches is reported where and as before.
func TestDispatchSyntaxErrors(t *testing.T) {
	cs := dispatchErrorCases()
	if len(cs) != len(dispatchErrorWant) {
		t.Fatalf("%d cases, %d wanted diagnostics", len(cs), len(dispatchErrorWant))
	}
	for name, src := range cs {
		_, ds := Parse("f.camp", src)
		got := fmt.Sprintf("NONE %d", len(ds))
		if len(ds) == 1 {
			d := ds[0]
			got = fmt.Sprintf("%d:%d-%d:%d %s %s", d.Start.Line, d.Start.Column, d.End.Line, d.End.Column, d.Code, d.Message)
		}
		if got != dispatchErrorWant[name] {
			t.Errorf("%s:\n%s\ngot  %s\nwant %s", name, src, got, dispatchErrorWant[name])
		}
	}
}

package console

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/store"
	"github.com/chromedp/chromedp"
)

// The end-to-end tests drive Debian's chromium, headless, through
// chromedp. They skip when chromium is missing, unless
// CAMPC_REQUIRE_CHROMIUM=1 (CI installs it and sets that). With
// CAMPC_UPDATE_SCREENSHOTS=1 they write the README's screenshots into
// docs/.

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CAMPC_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("CAMPC_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: apt-get install chromium to run the browser tests")
	return ""
}

// shotDir is where screenshots go: docs/ when they are being updated.
func shotDir(t *testing.T) string {
	if os.Getenv("CAMPC_UPDATE_SCREENSHOTS") == "1" {
		return filepath.Join("..", "docs")
	}
	return t.TempDir()
}

func newChrome(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // tests may run as root, where chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(width, height),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
	)
	// The deadline stops the browser: a test that hangs fails instead.
	dctx, cancel0 := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel0)
	actx, cancel := chromedp.NewExecAllocator(dctx, opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

type css = chromedp.CSS

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(shotDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(png))
}

func login(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(css(`input[name="user"]`)),
		chromedp.SendKeys(css(`input[name="user"]`), user),
		chromedp.SendKeys(css(`input[name="password"]`), password),
		chromedp.Click(css(`section.login button`)),
		chromedp.WaitVisible(css(`table.campaigns`)),
	)
}

func TestBrowserConsole(t *testing.T) {
	chromium(t)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, st, false)
	base := e.srv.URL
	ctx := newChrome(t, 1280, 800)
	login(t, ctx, base, "acme", "acme-secret")
	title := get(t, ctx, "campaigns", chromedp.Text(css("h1")))
	if title != "Campaigns" {
		t.Fatalf("after sign-in: %q", title)
	}

	// Open a campaign from the list.
	cp := e.campaign("Acme", "Welcome <b>")
	link := fmt.Sprintf(`a[href="/console/campaigns/%d"]`, e.svc.CampaignID(cp))
	run(t, ctx, "open the campaign", chromedp.Click(css(link), chromedp.NodeVisible), chromedp.WaitVisible(css(`#funnel`)))
	title = get(t, ctx, "title", chromedp.Text(css("h1")))
	if title != "Welcome <b>" {
		t.Errorf("campaign title %q", title)
	}

	// Request it for two people, with a token, confirming.
	run(t, ctx, "request",
		chromedp.SendKeys(css(`form.action input[name="people"]`), "1, 2"),
		chromedp.SendKeys(css(`form.action textarea[name="tokens"]`), "Event Name=Go <Summit>"),
		chromedp.Click(css(`form.action button`)),
		chromedp.WaitVisible(css(`#confirm`)),
	)
	summary := get(t, ctx, "summary", chromedp.Text(css(`p.summary`)))
	if !strings.Contains(summary, `my.Event Name = "Go <Summit>"`) {
		t.Errorf("confirmation: %q", summary)
	}
	run(t, ctx, "confirm",
		chromedp.Click(css(`#confirm`)),
		chromedp.WaitVisible(css(`p.done`)),
	)
	acts := get(t, ctx, "activities", chromedp.Text(css(`table.acts`)))
	if !strings.Contains(acts, "welcome Go <Summit>") {
		t.Errorf("the new activities do not appear:\n%s", acts)
	}

	// The funnel shows the database's counts.
	funnel := get(t, ctx, "funnel", chromedp.OuterHTML(css(`#funnel`)))
	db := countSteps(t, st, "Acme", cp.Name)
	rows := regexp.MustCompile(`(?s)<tr data-line="(\d+)">.*?<td class="n people">(\d*)</td>`).FindAllStringSubmatch(funnel, -1)
	if len(rows) != len(cp.Flow) {
		t.Fatalf("funnel rows %d, steps %d", len(rows), len(cp.Flow))
	}
	for i, st := range cp.Flow {
		if want := fmt.Sprint(db[st.Base().ID]); rows[i][2] != want {
			t.Errorf("step %d: the page shows %q, the database %s", i+1, rows[i][2], want)
		}
	}
	if db[cp.Flow[0].Base().ID] != 2 {
		t.Errorf("database funnel %v", db)
	}
	screenshot(t, ctx, "console-campaign.png")

	// A person: the field holding <script> is text, not a script.
	run(t, ctx, "person", chromedp.Navigate(base+"/console/people/1"), chromedp.WaitVisible(css(`#fields`)))
	fields := get(t, ctx, "fields", chromedp.Text(css(`#fields`)))
	scripts := get(t, ctx, "scripts", chromedp.Nodes(css(`script`), chromedp.AtLeast(0)))
	if !strings.Contains(fields, hostile) {
		t.Errorf("the field value is not shown as text: %q", fields)
	}
	if len(scripts) != 0 {
		t.Errorf("the page holds %d script elements", len(scripts))
	}

	// Explain: pick the campaign and read the explanation.
	run(t, ctx, "explain",
		chromedp.SetValue(css(`select[name="explain"]`), fmt.Sprint(e.svc.CampaignID(cp))),
		chromedp.Click(css(`form.explain button`)),
		chromedp.WaitVisible(css(`#explanation`)),
	)
	explanation := get(t, ctx, "explanation", chromedp.Text(css(`#explanation`)))
	if !strings.Contains(explanation, `person 1, campaign "Welcome <b>" (trigger)`) || !strings.Contains(explanation, "in its flow already (waiting in it until 2026-12-02T09:30:00Z)") {
		t.Errorf("explanation:\n%s", explanation)
	}
	screenshot(t, ctx, "console-person.png")

	// A phone: 390 pixels wide, nothing wider than the screen.
	phone := newChrome(t, 390, 844)
	login(t, phone, base, "acme", "acme-secret")
	run(t, phone, "campaign on a phone", chromedp.Navigate(base+fmt.Sprintf("/console/campaigns/%d", e.svc.CampaignID(cp))), chromedp.WaitVisible(css(`#funnel`)))
	width := get(t, phone, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if width > 390 {
		t.Errorf("on a 390-pixel screen the page is %d pixels wide", width)
	}
	screenshot(t, phone, "console-campaign-phone.png")
}

// Package console is campc serve's web console (/console): the running
// system's campaigns, their call graph and funnels, people and their
// activity, and the service's operations, rendered on the server from Go
// templates (html/template escapes every value), with embedded assets
// and no script. Its actions (request a campaign, run a batch campaign
// now, activate or deactivate a trigger campaign, retry a delivery) ask
// for confirmation and are logged with who did them.
//
// Sign-in is an API user's client id and secret (who then sees only
// their workspace) or the admin password from the environment. The
// session cookie is HttpOnly, SameSite=Strict and Secure over TLS; every
// form carries a CSRF token tied to the session, and cross-origin posts
// are refused (http.CrossOriginProtection) before any handler runs.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/campc/campc/graph"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/serve"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Prefix is where serve mounts the console.
const Prefix = "/console"

// AdminUser is the user name of the admin password's sign-in.
const AdminUser = "admin"

// A user name with loginFailures failed sign-ins in loginWindow (on the
// service's clock) is refused until the oldest leaves the window, so
// that a password cannot be guessed at the speed of the network.
const (
	loginFailures = 5
	loginWindow   = 15 * time.Minute
)

// maxForm is the largest form a post may carry (the API's body limit).
const maxForm = 1 << 20

// SessionTTL is how long a session lasts after sign-in.
const SessionTTL = 12 * time.Hour

// Config configures a Console.
type Config struct {
	// AdminPassword signs in the user "admin", who sees every workspace
	// (CAMPC_CONSOLE_PASSWORD); "" disables it.
	AdminPassword string
	// Sources are the project's files by name, for the campaign page's
	// source and the source view, when the service was not given them
	// (serve.Config.Project).
	Sources map[string]string
	Logger  *slog.Logger
}

// Console is the web console of one service.
type Console struct {
	svc  *serve.Service
	cfg  Config
	log  *slog.Logger
	tmpl map[string]*template.Template
	key  []byte // signs the sign-in form's CSRF token

	viewMu sync.Mutex
	last   *view // the view of the program the service ran last

	mu       sync.Mutex
	sessions map[string]*session
	failures map[string][]time.Time // failed sign-ins by user name, in the last loginWindow

	countsMu sync.Mutex
	counts   map[*ir.Campaign]*counts // see counts.go

	handlerOnce sync.Once
	handler     http.Handler
}

// session is a signed-in user.
type session struct {
	user      string // the API user's client id, or AdminUser
	workspace string // the one workspace the user sees; "": every one
	csrf      string
	expires   time.Time
}

const (
	cookieName  = "campc_console"
	loginCookie = "campc_console_login"
)

// New makes the console of a service.
func New(svc *serve.Service, cfg Config) (*Console, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{svc: svc, cfg: cfg, log: cfg.Logger, sessions: map[string]*session{}, failures: map[string][]time.Time{}, counts: map[*ir.Campaign]*counts{}, tmpl: map[string]*template.Template{}}
	c.key = make([]byte, 32)
	if _, err := rand.Read(c.key); err != nil {
		return nil, err
	}
	pages, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", p)
		if err != nil {
			return nil, err
		}
		c.tmpl[name] = t
	}
	return c, nil
}

// view is what the console derives from one program: its call graph
// and sources. A deploy changes the service's program; each request
// takes the view of the program the service runs then.
type view struct {
	prog    *ir.Program
	graph   *graph.Graph
	nodes   map[*ir.Campaign]*graph.Node
	byNode  map[*graph.Node]*ir.Campaign
	sources map[string]string
}

// view returns the view of the service's current program.
func (c *Console) view() *view {
	prog := c.svc.Program()
	c.viewMu.Lock()
	defer c.viewMu.Unlock()
	if c.last != nil && c.last.prog == prog {
		return c.last
	}
	v := &view{prog: prog, graph: graph.Build(prog), nodes: map[*ir.Campaign]*graph.Node{}, byNode: map[*graph.Node]*ir.Campaign{}}
	for i, cp := range prog.Campaigns {
		// graph.Build makes one node per campaign, in program order.
		v.nodes[cp], v.byNode[v.graph.Nodes[i]] = v.graph.Nodes[i], cp
	}
	if v.sources = c.svc.Sources(); v.sources == nil {
		v.sources = c.cfg.Sources
	}
	if c.last != nil {
		// The counts kept are of the old program's campaigns.
		c.countsMu.Lock()
		clear(c.counts)
		c.countsMu.Unlock()
	}
	c.last = v
	return v
}

// Handler serves the console under Prefix.
func (c *Console) Handler() http.Handler {
	c.handlerOnce.Do(func() { c.handler = c.routes() })
	return c.handler
}

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET "+Prefix+"/login", c.loginPage)
	mux.HandleFunc("POST "+Prefix+"/login", c.login)
	mux.HandleFunc("POST "+Prefix+"/logout", c.auth(c.logout))
	mux.HandleFunc("GET "+Prefix+"/{$}", c.auth(c.campaigns))
	mux.HandleFunc("GET "+Prefix+"/campaigns/{id}", c.auth(c.campaign))
	mux.HandleFunc("GET "+Prefix+"/campaigns/{id}/graph.svg", c.auth(c.graphSVG))
	mux.HandleFunc("GET "+Prefix+"/source", c.auth(c.source))
	mux.HandleFunc("GET "+Prefix+"/people", c.auth(c.people))
	mux.HandleFunc("GET "+Prefix+"/people/{id}", c.auth(c.person))
	mux.HandleFunc("GET "+Prefix+"/activity", c.auth(c.activity))
	mux.HandleFunc("GET "+Prefix+"/operations", c.auth(c.operations))
	mux.HandleFunc("POST "+Prefix+"/actions/{action}", c.auth(c.action))
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Prefix+"/", http.StatusFound) })
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders forbid framing, scripts and sniffing on every page.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func randomToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}

// user is what a handler knows of who asks.
type user struct {
	*session
	id string // the session's id (its cookie)
}

// allWorkspaces reports whether the user sees every workspace.
func (u *user) allWorkspaces() bool { return u.workspace == "" }

// sees reports whether the user sees a workspace.
func (u *user) sees(ws *ir.Workspace) bool { return u.workspace == "" || ws.Name == u.workspace }

type handler func(w http.ResponseWriter, r *http.Request, u *user)

// auth lets signed-in users through; others go to the sign-in page (GET)
// or are refused (POST). A POST must carry the session's CSRF token.
func (c *Console) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := c.current(r)
		if u == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(u.csrf)) != 1 {
				http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
				return
			}
		}
		h(w, r, u)
	}
}

// current is the session of the request's cookie, nil when none is live.
func (c *Console) current(r *http.Request) *user {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	now := c.svc.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s == nil {
		return nil
	}
	if !now.Before(s.expires) {
		delete(c.sessions, ck.Value)
		return nil
	}
	return &user{session: s, id: ck.Value}
}

// loginCSRF is the sign-in form's token: tied to the browser's sign-in
// cookie, so that another site cannot sign a browser in as itself.
func (c *Console) loginCSRF(nonce string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("login\x00" + nonce))
	return hex.EncodeToString(m.Sum(nil))
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: maxAge})
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.loginForm(w, r, "", http.StatusOK)
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, problem string, status int) {
	nonce := randomToken()
	c.setCookie(w, r, loginCookie, nonce, 600)
	c.render(w, r, status, "login", nil, map[string]any{"CSRF": c.loginCSRF(nonce), "Problem": problem, "Admin": c.cfg.AdminPassword != ""})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(c.loginCSRF(ck.Value))) {
		http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	name, secret := r.PostForm.Get("user"), r.PostForm.Get("password")
	if c.throttled(name) {
		c.log.Warn("console sign-in throttled", "user", clipText(name))
		c.loginForm(w, r, "Too many failed sign-ins for this user: wait a few minutes.", http.StatusTooManyRequests)
		return
	}
	var s *session
	switch {
	case name == AdminUser && c.cfg.AdminPassword != "":
		if subtle.ConstantTimeCompare([]byte(secret), []byte(c.cfg.AdminPassword)) == 1 {
			s = &session{user: AdminUser}
		}
	default:
		if u := c.svc.Authenticate(name, secret); u != nil {
			s = &session{user: u.ID, workspace: u.Workspace}
		}
	}
	if s == nil {
		c.failed(name)
		c.log.Warn("console sign-in refused", "user", clipText(name))
		c.loginForm(w, r, "Wrong user or password.", http.StatusUnauthorized)
		return
	}
	s.csrf, s.expires = randomToken(), c.svc.Now().Add(SessionTTL)
	id := randomToken()
	now := c.svc.Now()
	c.mu.Lock()
	for k, v := range c.sessions {
		if !now.Before(v.expires) {
			delete(c.sessions, k)
		}
	}
	c.sessions[id] = s
	c.mu.Unlock()
	c.setCookie(w, r, loginCookie, "", -1)
	c.setCookie(w, r, cookieName, id, int(SessionTTL/time.Second))
	c.log.Info("console sign-in", "user", s.user)
	http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
}

// throttled reports whether a user name has used up its failed sign-ins.
func (c *Console) throttled(name string) bool {
	now := c.svc.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	recent := c.failures[name][:0]
	for _, t := range c.failures[name] {
		if now.Sub(t) < loginWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) == 0 {
		delete(c.failures, name)
		return false
	}
	c.failures[name] = recent
	return len(recent) >= loginFailures
}

// failed counts a failed sign-in; the names kept are bounded by forgetting
// the oldest when there are too many.
func (c *Console) failed(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) > 10_000 {
		clear(c.failures)
	}
	c.failures[name] = append(c.failures[name], c.svc.Now())
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, u *user) {
	c.mu.Lock()
	delete(c.sessions, u.id)
	c.mu.Unlock()
	c.setCookie(w, r, cookieName, "", -1)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

// clipText shortens a value for a log line.
func clipText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// signedIn is who the page header names.
type signedIn struct{ User, Workspace string }

// page is what every template gets.
type page struct {
	User  *signedIn
	CSRF  string
	Title string
	Nav   string
	Data  any
	Now   time.Time
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, u *user, data any) {
	t := c.tmpl[name]
	if t == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	p := page{Data: data, Nav: name, Now: c.svc.Now()}
	if u != nil {
		p.CSRF, p.User = u.csrf, &signedIn{User: u.user, Workspace: u.workspace}
	}
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		c.log.Error("console page", "page", name, "error", err.Error())
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// fail answers an error page: not found for what the user may not see,
// as for what does not exist.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, u *user, status int, msg string) {
	c.render(w, r, status, "error", u, map[string]any{"Status": status, "Message": msg})
}

func (c *Console) internal(w http.ResponseWriter, r *http.Request, u *user, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.log.Error("console", "path", r.URL.Path, "error", err.Error())
	c.fail(w, r, u, http.StatusInternalServerError, "Something went wrong; the service log has the details.")
}

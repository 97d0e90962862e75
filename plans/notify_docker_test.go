package plans_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/plans"
)

// hook is a webhook receiver on 127.0.0.1 that records what it gets.
type hook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	hold chan struct{} // when set, requests hang until it is closed
	code int           // answer; default 200
}

type received struct {
	path, auth string
	body       []byte
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, received{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body})
		hold, code := h.hold, h.code
		h.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
		if code == 0 {
			code = http.StatusOK
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) requests(path string) []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []received
	for _, r := range h.got {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

func TestNotifyAndMarkTellTheWebhooksAboutTheReleaseWithoutSecrets(t *testing.T) {
	const secret, token = "hunter2-secret", "tok-123456"
	t.Setenv("TEST_DB_PASSWORD", secret)
	t.Setenv("TEST_HOOK_TOKEN", token)
	f := newFixture(t)
	h := newHook(t)
	must(t, f.apply(f.plan("1", nil)))

	extra := `notify:
  - url: ` + h.srv.URL + `/chat
    headers: {Authorization: "Bearer ${TEST_HOOK_TOKEN}"}
  - url: ` + h.srv.URL + `/ends
    on: [done, failed, reverted]
steps:
  - mark:
      url: ` + h.srv.URL + `/annotations/{{.Release}}
      headers: {Authorization: "Bearer ${TEST_HOOK_TOKEN}"}
      body: {text: "deploy {{.Release}} by {{.Actor}}", tags: [golive, "{{.Project}}"]}
  - mark: {url: "http://127.0.0.1:1/unreachable"}
  - deploy: backend
  - deploy: frontend
  - verify: test "` + secret + `" = wrong
`
	p := f.plan("2", func(v *planVars) {
		v.APIEnv = `, DB_PASSWORD: "${TEST_DB_PASSWORD}"`
		v.Extra = extra
	})
	e, j := f.engine(p, plans.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Apply(ctx); err == nil {
		t.Fatal("apply passed; the verify step should fail it")
	}
	e.Close()

	for _, r := range h.got {
		if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), token) {
			t.Errorf("a secret reached webhook %s: %s", r.path, r.body)
		}
	}
	marks := h.requests("/annotations/2")
	if len(marks) != 1 {
		t.Fatalf("%d marks, want 1", len(marks))
	}
	var mark struct {
		Text string   `json:"text"`
		Tags []string `json:"tags"`
	}
	must(t, json.Unmarshal(marks[0].body, &mark))
	if mark.Text != "deploy 2 by tester@ci" || !slices.Equal(mark.Tags, []string{"golive", f.project}) || marks[0].auth != "Bearer "+token {
		t.Errorf("mark %+v with auth %q", mark, marks[0].auth)
	}

	chat := h.requests("/chat")
	var events []string
	var end plans.Notice
	for _, r := range chat {
		var n plans.Notice
		must(t, json.Unmarshal(r.body, &n))
		events = append(events, n.Event)
		end = n
		if r.auth != "Bearer "+token {
			t.Errorf("chat webhook got Authorization %q", r.auth)
		}
	}
	if !slices.Equal(events, []string{plans.NoticeStart, plans.NoticeReverted}) {
		t.Fatalf("chat notices %v, want start then reverted", events)
	}
	if end.Project != f.project || end.Release != "2" || end.Actor != "tester@ci" || end.Outcome != string(plans.Reverted) || end.Journal != j.Path() || end.DurationMS <= 0 {
		t.Errorf("end notice %+v", end)
	}
	if !strings.Contains(end.Text, "REVERTED") || !strings.Contains(end.Text, f.project+" 2") {
		t.Errorf("text %q", end.Text)
	}
	if len(end.Errors) == 0 || !strings.Contains(end.Errors[0], `test \"****\" = wrong" exited with code 1`) {
		t.Errorf("first errors %q, want the failed verify step, masked", end.Errors)
	}
	services := map[string]plans.NoticeService{}
	for _, s := range end.Services {
		services[s.Service] = s
	}
	if api := services["api"]; api.Before != f.image("api:1") || api.After != f.image("api:1") || api.Result != plans.ResultReverted {
		t.Errorf("api in the end notice: %+v, want api:1 back after the revert", api)
	}
	if ends := h.requests("/ends"); len(ends) != 1 {
		t.Errorf("the on: [done, failed, reverted] webhook got %d notices, want 1", len(ends))
	}

	journal, err := os.ReadFile(j.Path())
	must(t, err)
	for _, want := range []string{`"event":"notify","actor":"tester@ci"`, `reverted → ` + h.srv.URL + `/chat`, `not delivered`,
		`"step_name":"Mark: ` + h.srv.URL + `/annotations/2"`, `"line":"marked: POST ` + h.srv.URL + `/annotations/2"`} {
		if !strings.Contains(string(journal), want) {
			t.Errorf("journal lacks %q", want)
		}
	}
	if strings.Contains(string(journal), token) {
		t.Errorf("the journal holds the webhook token")
	}
}

func TestAFailingOrHangingWebhookDoesNotHoldUpTheRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hanging, failing := newHook(t), newHook(t)
	hanging.hold = make(chan struct{})
	defer close(hanging.hold)
	failing.code = http.StatusInternalServerError
	p := f.plan("1", func(v *planVars) {
		v.Extra = "notify:\n  - {url: " + hanging.srv.URL + "/hang, timeout: 200ms}\n  - {url: " + failing.srv.URL + "/fail}\n"
	})
	e, j := f.engine(p, plans.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	must(t, e.Apply(ctx))
	e.Close()
	if n := len(failing.requests("/fail")); n != 6 {
		t.Errorf("the failing webhook got %d requests, want 3 attempts for each of start and done", n)
	}
	journal, err := os.ReadFile(j.Path())
	must(t, err)
	for _, want := range []string{"no answer within 200ms", "answered 500 Internal Server Error", "attempt 3 of 3"} {
		if !strings.Contains(string(journal), want) {
			t.Errorf("journal lacks %q", want)
		}
	}
}

func TestCheckRefusesBadWebhooksAndMarks(t *testing.T) {
	head := "project: p\nrelease: \"1\"\nservices: {api: {image: a}}\n"
	tests := []struct{ name, plan, want string }{
		{"an unknown notice", head + "notify:\n  - url: http://127.0.0.1:9/x\n    on: [start, finished]\n", `plan.yaml:6:5: notify: on "finished" is not a notice`},
		{"a webhook without url", head + "notify:\n  - on: [done]\n", "plan.yaml:5:5: url is missing"},
		{"a url that is not http", head + "notify:\n  - url: ftp://x/y\n", `plan.yaml:5:10: url "ftp://x/y" is not an http:// or https:// URL`},
		{"a mark body naming no field", head + "steps:\n  - mark: {url: http://x/y, body: {text: \"{{.Nope}}\"}}\n  - deploy: default\n", "step 1: mark body: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plans.Parse("plan.yaml", []byte(tc.plan))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

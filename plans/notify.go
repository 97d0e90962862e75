package plans

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Notify is a webhook told about the release: a JSON Notice, with a
// Slack-compatible text field.
type Notify struct {
	URL     string            `yaml:"url"`     // ${VAR} is taken from the environment
	Headers map[string]string `yaml:"headers"` // ${VAR} is taken from the environment
	On      []string          `yaml:"on"`      // which notices; default: all
	Timeout time.Duration     `yaml:"timeout"` // of one attempt; default 5s
}

// Notice kinds: an apply started; it ended deployed (done), failed or
// aborted (failed), or reverted; or a revert ended (reverted).
const (
	NoticeStart    = "start"
	NoticeFailed   = "failed"
	NoticeReverted = "reverted"
	NoticeDone     = "done"
)

var noticeKinds = []string{NoticeStart, NoticeFailed, NoticeReverted, NoticeDone}

// EvNotify journals whether a webhook got a notice.
const EvNotify = "notify"

// Notice is what a webhook receives, and what a mark step's body templates
// read ({{.Release}}, {{.Actor}}, …). Every text in it is masked.
type Notice struct {
	Text       string          `json:"text"` // one line for a chat channel
	Event      string          `json:"event"`
	Project    string          `json:"project"`
	Release    string          `json:"release"`
	Actor      string          `json:"actor"`
	Run        string          `json:"run,omitempty"`
	Outcome    string          `json:"outcome,omitempty"` // deployed, failed, reverted or aborted
	StartedAt  time.Time       `json:"started_at"`
	DurationMS int64           `json:"duration_ms"`
	Steps      []NoticeStep    `json:"steps,omitempty"`
	Services   []NoticeService `json:"services,omitempty"`
	Error      string          `json:"error,omitempty"`
	Errors     []string        `json:"errors,omitempty"`  // the first error lines of the services' logs and steps
	Journal    string          `json:"journal,omitempty"` // the journal; `golive report` makes the postmortem from it
}

// NoticeStep is one step's result.
type NoticeStep struct {
	Name       string `json:"name"`
	Result     string `json:"result"`
	DurationMS int64  `json:"duration_ms"`
}

// NoticeService is what one service ran before the release and runs after.
type NoticeService struct {
	Service string `json:"service"`
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`
	Result  string `json:"result,omitempty"`
}

// noticeErrors bounds the error lines a notice carries.
const noticeErrors = 5

// Notifier timing: attempts per notice, and how long Close waits for the
// webhooks before giving up on them.
const (
	notifyAttempts = 3
	notifyTimeout  = 5 * time.Second
	notifyDrain    = 10 * time.Second
)

// notifier folds the engine's events into the release's Notice and sends
// it to the plan's webhooks. It never blocks the release: each webhook has
// its own queue and worker, and what fails is journaled.
type notifier struct {
	e *Engine

	mu      sync.Mutex
	notice  Notice
	start   time.Time
	inApply bool
	queues  []chan Notice
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
}

func newNotifier(e *Engine) *notifier {
	n := &notifier{e: e}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n
}

// snapshot is the release's notice as it stands.
func (n *notifier) snapshot() Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.current()
}

func (n *notifier) current() Notice {
	out := n.notice
	out.Project, out.Release, out.Actor = n.e.plan.Project, n.e.plan.Release, n.e.opts.Actor
	if n.e.opts.Journal != nil {
		out.Journal = n.e.opts.Journal.Path()
	}
	if !n.start.IsZero() {
		out.StartedAt = n.start
		if out.DurationMS == 0 {
			out.DurationMS = ms(n.e.opts.Now().Sub(n.start))
		}
	}
	out.Steps = slices.Clone(out.Steps)
	out.Services = slices.Clone(out.Services)
	out.Errors = slices.Clone(out.Errors)
	return out
}

// observe folds one event (already masked) and queues the notices it ends.
func (n *notifier) observe(ev Event) {
	if ev.Kind == EvNotify {
		return
	}
	n.mu.Lock()
	var send, what string
	switch ev.Kind {
	case EvApplyStart:
		n.notice, n.start, n.inApply = Notice{Run: ev.Run}, ev.Time, true
		send, what = NoticeStart, "release started"
	case EvRevertStart:
		if !n.inApply {
			n.notice, n.start = Notice{Run: ev.Run}, ev.Time
		}
	case EvStepEnd:
		n.notice.Steps = append(n.notice.Steps, NoticeStep{Name: ev.StepName, Result: ev.Result, DurationMS: ev.DurationMS})
		if ev.Error != "" {
			n.addError(ev.Error)
		}
	case EvServiceStart, EvServiceEnd:
		s := n.service(ev.Service)
		if ev.PrevImage != "" {
			s.Before = ev.PrevImage
		}
		s.After, s.Result = ev.Image, ev.Result
		if ev.Result == ResultUnchanged && s.Before == "" {
			s.Before = ev.Image
		}
	case EvRevertService:
		s := n.service(ev.Service)
		if s.Before == "" && !n.inApply { // a revert of its own: before it, the apply's image ran
			s.Before = ev.Image
		}
		s.After, s.Result = ev.PrevImage, ev.Result
	case EvLogError:
		n.addError(ev.Service + ": " + ev.Line)
	case EvApplyEnd:
		n.notice.Outcome, n.notice.Error, n.notice.DurationMS, n.inApply = ev.Result, ev.Error, ev.DurationMS, false
		switch Outcome(ev.Result) {
		case Deployed:
			send, what = NoticeDone, "deployed"
		case Reverted:
			send, what = NoticeReverted, "release failed and was REVERTED"
		case Aborted:
			send, what = NoticeFailed, "release FAILED before changing anything"
		default:
			send, what = NoticeFailed, "release FAILED"
		}
	case EvRevertEnd:
		if !n.inApply && ev.Result != ResultNothing {
			n.notice.Outcome, n.notice.Error, n.notice.DurationMS = ev.Result, ev.Error, ev.DurationMS
			send, what = NoticeReverted, "reverted to the previous images"
			if ev.Result != ResultReverted {
				what = "revert FAILED"
			}
		}
	}
	var notice Notice
	if send != "" {
		notice = n.current()
		notice.Event = send
		notice.Text = noticeText(notice, what)
	}
	n.mu.Unlock()
	if send != "" {
		n.send(notice)
	}
}

func (n *notifier) service(name string) *NoticeService {
	for i := range n.notice.Services {
		if n.notice.Services[i].Service == name {
			return &n.notice.Services[i]
		}
	}
	n.notice.Services = append(n.notice.Services, NoticeService{Service: name})
	return &n.notice.Services[len(n.notice.Services)-1]
}

func (n *notifier) addError(text string) {
	line, _, _ := strings.Cut(text, "\n")
	if len(n.notice.Errors) < noticeErrors {
		n.notice.Errors = append(n.notice.Errors, line)
	}
}

// noticeText is the notice in one line, for a chat channel.
func noticeText(n Notice, what string) string {
	text := fmt.Sprintf("%s %s: %s by %s", n.Project, n.Release, what, n.Actor)
	if n.Event != NoticeStart {
		text += fmt.Sprintf(" in %s", (time.Duration(n.DurationMS) * time.Millisecond).Round(time.Second))
	}
	var changed []string
	for _, s := range n.Services {
		if s.Before != s.After && s.After != "" {
			changed = append(changed, fmt.Sprintf("%s %s → %s", s.Service, orNone(s.Before), s.After))
		}
	}
	if len(changed) > 0 && n.Event != NoticeStart {
		text += "; " + strings.Join(changed, ", ")
	}
	if n.Event != NoticeStart && n.Event != NoticeDone && len(n.Errors) > 0 {
		text += "; first error: " + n.Errors[0]
	}
	return text
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// send queues the notice for every webhook that wants it; a full queue
// drops it (journaled) rather than wait.
func (n *notifier) send(notice Notice) {
	var dropped []string
	defer func() {
		for _, u := range dropped {
			n.e.Emit(Event{Kind: EvNotify, Run: notice.Run, Result: ResultFailed, Message: notice.Event + " → " + u, Error: "too many notices queued: dropped"})
		}
	}()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	if n.queues == nil {
		for i := range n.e.plan.Notify {
			q := make(chan Notice, 8)
			n.queues = append(n.queues, q)
			n.wg.Add(1)
			go n.worker(n.e.plan.Notify[i], q)
		}
	}
	for i, w := range n.e.plan.Notify {
		if len(w.On) > 0 && !slices.Contains(w.On, notice.Event) {
			continue
		}
		select {
		case n.queues[i] <- notice:
		default:
			dropped = append(dropped, w.URL)
		}
	}
}

// worker delivers one webhook's notices in order until close.
func (n *notifier) worker(w Notify, q chan Notice) {
	defer n.wg.Done()
	for notice := range q {
		err := n.deliver(w, notice)
		ev := Event{Kind: EvNotify, Run: notice.Run, Result: ResultOK, Message: notice.Event + " → " + w.URL}
		if err != nil {
			ev.Result, ev.Error = ResultFailed, err.Error()
		}
		n.e.Emit(ev)
	}
}

func (n *notifier) deliver(w Notify, notice Notice) error {
	body, err := json.Marshal(notice)
	if err != nil {
		return err
	}
	return postJSON(n.ctx, n.e.opts.Lookup, w.URL, w.Headers, body, w.Timeout)
}

// close waits up to notifyDrain for the queued notices, then abandons them.
func (n *notifier) close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	for _, q := range n.queues {
		close(q)
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() {
		n.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(notifyDrain)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		n.cancel()
		<-done
	}
	n.cancel()
}

// postJSON posts body to rawURL with headers, expanding ${VAR} in both
// from the environment, retrying failures. Its errors name the URL as the
// plan writes it, so an expanded secret never reaches the journal.
func postJSON(ctx context.Context, lookup LookupEnv, rawURL string, headers map[string]string, body []byte, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = notifyTimeout
	}
	target, err := expandEnv(rawURL, lookup)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	hdr := http.Header{}
	for k, v := range headers {
		val, err := expandEnv(v, lookup)
		if err != nil {
			return fmt.Errorf("header %s: %w", k, err)
		}
		hdr.Set(k, val)
	}
	if hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", "application/json")
	}
	var last error
	for attempt := 1; attempt <= notifyAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (gave up: golive was exiting)", last)
			case <-time.After(time.Duration(attempt-1) * 500 * time.Millisecond):
			}
		}
		last = postOnce(ctx, target, hdr, body, timeout)
		if last == nil {
			return nil
		}
		last = fmt.Errorf("attempt %d of %d: %w", attempt, notifyAttempts, last)
	}
	return last
}

func postOnce(ctx context.Context, target string, hdr http.Header, body []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bad request: %v", redactURL(err))
	}
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("no answer within %s", timeout)
		}
		return redactURL(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// redactURL drops the URL from a net/http error: it may carry a token.
func redactURL(err error) error {
	if uerr, ok := err.(*url.Error); ok {
		return uerr.Err
	}
	return err
}

// expandEnv replaces ${VAR} with the operator's environment; an unset
// variable is an error rather than an empty value.
func expandEnv(s string, lookup LookupEnv) (string, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var missing []string
	out := os.Expand(s, func(name string) string {
		v, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("uses %s, not set in your environment", strings.Join(missing, ", "))
	}
	return out, nil
}

// WebhookWarnings says which webhooks and mark steps use a ${VAR} that is
// not set now: they would not be told.
func (p *Plan) WebhookWarnings(lookup LookupEnv) []string {
	var out []string
	check := func(what, rawURL string, headers map[string]string) {
		if _, err := expandEnv(rawURL, lookup); err != nil {
			out = append(out, fmt.Sprintf("%s: url %v", what, err))
		}
		for _, k := range slices.Sorted(maps.Keys(headers)) {
			if _, err := expandEnv(headers[k], lookup); err != nil {
				out = append(out, fmt.Sprintf("%s: header %s %v", what, k, err))
			}
		}
	}
	for i, w := range p.Notify {
		check(fmt.Sprintf("notify %d (%s)", i+1, w.URL), w.URL, w.Headers)
	}
	for i, s := range p.Steps {
		if s.Mark != nil {
			check(fmt.Sprintf("step %d (mark %s)", i+1, s.Mark.URL), s.Mark.URL, s.Mark.Headers)
		}
	}
	return out
}

// notify checks the plan's webhooks.
func (v *validator) notify() {
	for i, w := range v.plan.Notify {
		at := fmt.Sprintf("$.notify[%d]", i)
		v.webhookURL(w.URL, at)
		for _, on := range w.On {
			if !slices.Contains(noticeKinds, on) {
				v.at(at+".on", "notify: on %q is not a notice; expected some of %s", on, strings.Join(noticeKinds, ", "))
			}
		}
		if w.Timeout < 0 {
			v.at(at+".timeout", "notify: timeout must not be negative")
		}
	}
}

// webhookURL checks a URL that may be written with ${VAR}.
func (v *validator) webhookURL(raw, at string) {
	if raw == "" {
		v.at(at, "url is missing: add `url: https://…` (or `url: ${SLACK_WEBHOOK_URL}` to take it from your environment)")
		return
	}
	if strings.HasPrefix(raw, "$") {
		return
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.at(at+".url", "url %q is not an http:// or https:// URL", raw)
	}
}

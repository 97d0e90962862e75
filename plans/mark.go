package plans

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/template"
)

// Mark is a step that posts a deploy marker (a Grafana annotation, a Sentry
// deploy) where the plan places it. Its body is JSON: a mapping written in
// YAML, or a string; {{.Release}}, {{.Actor}} and the other Notice fields
// are filled in. A marker that cannot be delivered does not fail the
// release unless required is set.
type Mark struct {
	URL      string            `yaml:"url"`     // ${VAR} from the environment; {{.Release}} and the like filled in
	Headers  map[string]string `yaml:"headers"` // ${VAR} is taken from the environment
	Body     any               `yaml:"body"`
	Required bool              `yaml:"required"`
}

// mark carries out a mark step.
func (e *Engine) mark(ctx context.Context, base Event, m Mark) error {
	notice := e.notifier.snapshot()
	notice.Event = StepMark
	notice.Text = noticeText(notice, "deploying")
	target, err := fillTemplate(m.URL, notice)
	var body []byte
	if err == nil {
		body, err = markBody(m.Body, notice)
	}
	if err == nil {
		err = postJSON(ctx, e.opts.Lookup, target, m.Headers, body, 0)
	}
	out := base
	out.Kind, out.Phase, out.Stream = EvStepOutput, StepMark, "stdout"
	switch {
	case err == nil:
		out.Line = "marked: POST " + e.markShown(m)
	case m.Required:
		return fmt.Errorf("mark %s: %w", m.URL, err)
	default:
		out.Stream, out.Line = "stderr", fmt.Sprintf("mark %s not delivered: %v (not required: the release goes on)", m.URL, err)
	}
	e.Emit(out)
	return nil
}

// markShown is a mark step's URL as the operator reads it: templates and
// ${VAR}s filled in, secrets masked, credentials and query left out (they
// may carry a token).
func (e *Engine) markShown(m Mark) string {
	notice := e.notifier.snapshot()
	notice.Event = StepMark
	return shownURL(m.URL, notice, e.opts.Lookup, e.Mask)
}

// shownURL fills a webhook URL's templates and ${VAR}s, as far as they can
// be, and masks what it must not show.
func shownURL(raw string, n Notice, lookup LookupEnv, mask func(string) string) string {
	shown := raw
	if filled, err := fillTemplate(shown, n); err == nil {
		shown = filled
	}
	if expanded, err := expandEnv(shown, lookup); err == nil {
		shown = expanded
	}
	if u, err := url.Parse(shown); err == nil && u.Host != "" {
		hidden := u.User != nil || u.RawQuery != ""
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		shown = u.String()
		if hidden {
			shown += " (credentials and query hidden)"
		}
	}
	return mask(shown)
}

// markBody fills the Notice fields into the body's strings and writes it
// as JSON. A string body is sent as written once filled in.
func markBody(body any, n Notice) ([]byte, error) {
	if body == nil {
		return json.Marshal(map[string]string{"text": n.Text})
	}
	if s, ok := body.(string); ok {
		out, err := fillTemplate(s, n)
		return []byte(out), err
	}
	filled, err := fillAll(body, n)
	if err != nil {
		return nil, err
	}
	return json.Marshal(filled)
}

// fillAll fills templates in every string of a decoded YAML value.
func fillAll(v any, n Notice) (any, error) {
	switch x := v.(type) {
	case string:
		return fillTemplate(x, n)
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			f, err := fillAll(val, n)
			if err != nil {
				return nil, err
			}
			out[k] = f
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			f, err := fillAll(val, n)
			if err != nil {
				return nil, err
			}
			out[i] = f
		}
		return out, nil
	}
	return v, nil
}

func fillTemplate(text string, n Notice) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New("mark").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, n); err != nil {
		return "", err
	}
	return b.String(), nil
}

// mark checks a mark step: its URL, and that its templates name Notice
// fields.
func (v *validator) mark(m *Mark, i int, at string) {
	v.webhookURL(m.URL, at)
	if _, err := fillTemplate(m.URL, Notice{}); err != nil {
		v.at(at+".url", "step %d: mark url: %v", i+1, err)
	}
	if _, err := markBody(m.Body, Notice{}); err != nil {
		v.at(at+".body", "step %d: mark body: %v (fields: .Project .Release .Actor .Run .Text .StartedAt .Services .Steps .Errors .Journal)", i+1, err)
	}
}

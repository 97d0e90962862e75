package tui

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// logView shows the merged log stream. It renders only the lines that fit
// its rectangle, reading them from the ring buffer at render time.
type logView struct {
	buf      *logs.Buffer
	order    map[string]int // source → colour index: the plan's services first
	follow   bool
	offset   int       // matching lines between the bottom of the view and the newest
	seen     uint64    // the newest line when the offset was last brought up to date
	newBelow int       // lines that arrived below a paused view
	shown    uint64    // while following: the newest line drawn (0: up to the newest there is)
	shownAt  time.Time // when shown last moved
	wrap     bool
	times    timeMode
	errors   bool   // errors only
	source   string // one source only, "" for all
	search   string
	filter   string // substring; a leading ! inverts it
	re       *regexp.Regexp
}

func newLogView(buf *logs.Buffer, plan *plans.Plan) logView {
	v := logView{buf: buf, follow: true, order: map[string]int{}}
	services := plan.Placements()
	for i, s := range services {
		v.order[s.Name] = i
	}
	for i, f := range plan.Logs.Files {
		v.order[logs.Label(f)] = len(services) + i
	}
	return v
}

// currentFilter is what the view shows: source focus, errors only, filter.
func (v *logView) currentFilter() *logs.Filter {
	f := &logs.Filter{Source: v.source}
	if v.errors {
		f.MinLevel = logs.LevelError
	}
	if text, inverted := strings.CutPrefix(v.filter, "!"); text != "" {
		f.Text, f.Invert = text, inverted
	}
	return f
}

// catchUp keeps a paused view on the same lines as new ones arrive below.
func (v *logView) catchUp() {
	seq := v.buf.Seq()
	if seq == v.seen {
		return
	}
	if !v.follow {
		n := v.buf.CountNewer(v.seen, v.currentFilter())
		v.offset += n
		v.newBelow += n
	}
	v.seen = seq
}

// logFrameGap is the least time between two moves of a following view
// while lines keep arriving: nobody reads 20,000 lines a second, and each
// move rewrites the pane, which costs bandwidth over SSH. A line that comes
// after a quiet moment is drawn at the next frame.
const logFrameGap = 70 * time.Millisecond

// calmLines is how many new lines a frame may bring and still be drawn
// at once: fewer is not a flood.
const calmLines = 8

// pace runs at each frame: a following view moves to the newest lines at
// once when few arrived, and at most once per logFrameGap in a flood.
func (v *logView) pace(now time.Time) {
	if !v.follow {
		v.shown = 0
		return
	}
	seq := v.buf.Seq()
	if seq == v.shown || (v.shown != 0 && seq-v.shown > calmLines && now.Sub(v.shownAt) < logFrameGap) {
		return
	}
	v.shown, v.shownAt = seq, now
}

// scroll moves the view by delta lines (negative: older) and pauses
// following until it is back at the newest line.
func (v *logView) scroll(delta, height int) {
	v.catchUp()
	v.offset -= delta
	if max := v.buf.Count(v.currentFilter()) - height; v.offset > max {
		v.offset = max
	}
	if v.offset <= 0 {
		v.resume()
		return
	}
	v.follow = false
}

// resume follows the newest lines again.
func (v *logView) resume() {
	v.follow, v.offset, v.newBelow, v.shown = true, 0, 0, 0
	v.seen = v.buf.Seq()
}

// jump shows the nearest line matching want, older or newer than the bottom line.
func (v *logView) jump(want *logs.Filter, older bool) bool {
	v.catchUp()
	off, ok := v.buf.Find(v.offset, v.currentFilter(), want, older)
	if !ok {
		return false
	}
	v.offset, v.follow = off, off == 0
	if v.follow {
		v.newBelow = 0
	}
	return true
}

// latest shows the newest line matching want, the bottom line included.
func (v *logView) latest(want *logs.Filter) bool {
	v.catchUp()
	off, ok := v.buf.Find(-1, v.currentFilter(), want, true)
	if !ok {
		return false
	}
	v.offset, v.follow = off, off == 0
	return true
}

// position says where the bottom line stands among the shown lines that
// match want, counted from the oldest: "error 3/12". It reads only the
// lines below the bottom one; "" when want cannot be combined with the
// view's own filter text.
func (v *logView) position(what string, want *logs.Filter) string {
	both := *v.currentFilter()
	switch {
	case want.Text == "":
		both.MinLevel = max(both.MinLevel, want.MinLevel)
	case both.Text == "" && both.Regexp == nil:
		both.Text = want.Text
	default:
		return ""
	}
	newer := 0
	for _, l := range v.buf.Window(0, v.offset, v.currentFilter()) {
		if want.Match(l) {
			newer++
		}
	}
	total := v.buf.Count(&both)
	return fmt.Sprintf("%s %d/%d", what, total-newer, total)
}

// refilter applies a changed filter: the view goes back to the newest lines.
func (v *logView) refilter() { v.resume() }

func (v *logView) setSearch(s string) {
	v.search, v.re = s, nil
	if s != "" {
		v.re = regexp.MustCompile("(?i)" + regexp.QuoteMeta(s))
	}
}

// title is the log pane's heading: what it shows and whether it follows.
func (v *logView) title(st Styles) string {
	parts := []string{st.Bold.Render("LOGS")}
	if v.follow {
		parts = append(parts, st.OK.Render("● following"))
	} else {
		p := st.Status.Render("❚❚ paused")
		if v.newBelow > 0 {
			p += st.Status.Render(fmt.Sprintf(" (+%d new below, G to follow)", v.newBelow))
		}
		parts = append(parts, p)
	}
	if v.source != "" {
		parts = append(parts, "source "+v.source)
	}
	if v.errors {
		parts = append(parts, st.Error.Render("errors only"))
	}
	if v.filter != "" {
		parts = append(parts, "filter "+v.filter)
	}
	if v.search != "" {
		parts = append(parts, "search "+v.search)
	}
	if v.times != timesShort {
		parts = append(parts, v.times.String())
	}
	return strings.Join(parts, " · ")
}

// render draws the lines that fit width×height.
func (v *logView) render(width, height int, st Styles, mask func(string) string) []string {
	if height <= 0 {
		return nil
	}
	upTo := uint64(0)
	if v.follow {
		upTo = v.shown
	}
	lines := v.buf.WindowAt(upTo, v.offset, height, v.currentFilter())
	srcWidth, widest := 3, max(14, width/8)
	for _, l := range lines {
		srcWidth = max(srcWidth, min(ansi.StringWidth(l.Source), widest))
	}
	var rows []string
	for _, l := range lines {
		rows = append(rows, v.renderLine(l, width, srcWidth, st, mask)...)
	}
	if len(rows) > height {
		rows = rows[len(rows)-height:]
	}
	for len(rows) < height {
		rows = append([]string{""}, rows...)
	}
	return rows
}

func (v *logView) renderLine(l logs.Line, width, srcWidth int, st Styles, mask func(string) string) []string {
	gutter, text := "  ", mask(l.Text)
	lineStyle := lipgloss.NewStyle()
	switch {
	case l.Dropped > 0:
		gutter, text, lineStyle = st.Marker.Render("⋯ "), fmt.Sprintf("%d lines dropped here", l.Dropped), st.Marker
	case l.Level == logs.LevelError:
		gutter, lineStyle = st.Error.Render("✖ "), st.ErrorLine
	case l.Level == logs.LevelWarn:
		gutter, lineStyle = st.Warn.Render("▲ "), st.WarnLine
	}
	if v.times != timesLogged && l.Dropped == 0 {
		text = rewriteTimes(text, v.times == timesColumn)
	}
	prefix := gutter
	if v.times == timesColumn {
		prefix += st.Dim.Render(l.Time.Local().Format("15:04:05.00")) + " "
	}
	src := sourceLabel(l.Source, srcWidth)
	src += strings.Repeat(" ", srcWidth-ansi.StringWidth(src))
	srcStyle := st.Sources[v.colour(l.Source)%len(st.Sources)]
	if l.Cont {
		srcStyle = st.Dim
	}
	prefix += srcStyle.Render(src) + " "
	room := width - ansi.StringWidth(prefix)
	if room < 10 {
		room = 10
	}
	var chunks []string
	if v.wrap {
		chunks = strings.Split(ansi.Hardwrap(text, room, true), "\n")
	} else {
		chunks = []string{ansi.Truncate(text, room, "…")}
	}
	indent := strings.Repeat(" ", ansi.StringWidth(prefix))
	rows := make([]string, len(chunks))
	for i, c := range chunks {
		p := prefix
		if i > 0 {
			p = indent
		}
		rows[i] = p + v.highlight(c, lineStyle, st.Match)
	}
	return rows
}

// highlight styles text, with the search term's occurrences reversed.
func (v *logView) highlight(text string, base, match lipgloss.Style) string {
	if v.re == nil {
		return base.Render(text)
	}
	var b strings.Builder
	last := 0
	for _, loc := range v.re.FindAllStringIndex(text, -1) {
		b.WriteString(base.Render(text[last:loc[0]]))
		b.WriteString(match.Render(text[loc[0]:loc[1]]))
		last = loc[1]
	}
	b.WriteString(base.Render(text[last:]))
	return b.String()
}

func (v *logView) colour(source string) int {
	if i, ok := v.order[source]; ok {
		return i
	}
	v.order[source] = len(v.order)
	return v.order[source]
}

// sourceLabel fits a log source's name into width cells. A Swarm task's
// name (api.10@node1) keeps its slot and node, which tell tasks apart, and
// loses its service name first, then its start; other names lose their end.
func sourceLabel(src string, width int) string {
	if ansi.StringWidth(src) <= width {
		return src
	}
	service := logs.SourceService(src)
	if service == src {
		return ansi.Truncate(src, width, "…")
	}
	slot := src[len(service):] // .10@node1
	if room := width - ansi.StringWidth(slot); room >= 2 {
		return ansi.Truncate(service, room, "…") + slot
	}
	return "…" + ansi.TruncateLeft(src, ansi.StringWidth(src)-width+1, "")
}

package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

// Smallest and roomy sizes of the cockpit.
const (
	minWidth, minHeight     = 80, 24
	roomyWidth, roomyHeight = 120, 40
)

// View draws the cockpit for the current size.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "golive " + m.plan.Project + " " + m.state.Release
	return v
}

// render is the screen as text, one row per line.
func (m Model) render() string {
	if m.width < minWidth || m.height < minHeight {
		msg := fmt.Sprintf("golive needs a terminal of at least %d×%d; this one is %d×%d.\nEnlarge it (or zoom out). q quits.", minWidth, minHeight, m.width, m.height)
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg)
	}
	top, bottom, logHeight := m.layout()
	rows := append(top, ansi.Truncate(m.logs.title(m.styles), m.width, "…"))
	rows = append(rows, m.logs.render(m.width, logHeight, m.styles, m.cfg.Engine.Mask)...)
	rows = append(rows, bottom...)
	for i, r := range rows {
		rows[i] = ansi.Truncate(r, m.width, "")
	}
	if len(rows) > m.height {
		rows = rows[:m.height]
	}
	return strings.Join(rows, "\n")
}

// layout is the rows above the logs, the rows below them, and how many
// log rows fit between.
func (m Model) layout() (top, bottom []string, logHeight int) {
	top = append(m.header(), m.newerLine()...)
	if m.roomy() {
		top = append(top, "")
		top = append(top, m.roomyPanels()...)
	} else {
		top = append(top, m.servicesTable()...)
		top = append(top, m.proxyLines()...)
		top = append(top, m.stepsLine())
		top = append(top, m.preloadLines(false, 28, 20)...)
	}
	top = append(top, m.outcomeLines()...)
	top = append(top, m.questionLine()...)
	if st := m.state.RunningStep(); st != nil && len(st.Output) > 0 {
		for _, l := range st.Output[max(0, len(st.Output)-m.outputRows()):] {
			top = append(top, m.styles.Dim.Render("  │ ")+ansi.Truncate(m.cfg.Engine.Mask(l), m.width-4, "…"))
		}
	}
	bottom = []string{m.statusLine(), m.footer()}
	if m.help.ShowAll {
		bottom = append([]string{m.statusLine()}, strings.Split(m.footer(), "\n")...)
	}
	return top, bottom, max(m.height-len(top)-len(bottom)-1, 1)
}

func (m Model) roomy() bool { return m.width >= roomyWidth && m.height >= roomyHeight }

func (m Model) outputRows() int {
	if m.roomy() {
		return 3
	}
	return 1
}

// logHeight is how many log rows fit; key handling pages by it.
func (m Model) logHeight() int {
	_, _, h := m.layout()
	return h
}

// header is the release, the phase and who acts where.
func (m Model) header() []string {
	st := m.styles
	phase := m.Phase()
	badge := st.Phase[phase].Render(strings.ToUpper(string(phase)))
	elapsed := ""
	if m.state.Running() {
		elapsed = " " + m.spin.View() + " " + m.cfg.Now().Sub(m.state.OpStart).Round(time.Second).String()
	}
	title := st.Header.Render("golive") + " · " + st.Bold.Render(clean(m.plan.Project)) + " " + clean(m.state.Release)
	line1 := title + "  " + badge + elapsed
	if m.stopping && phase == plans.PhaseDeploying {
		line1 += "  " + st.Status.Render("stopping the release to revert…")
	}
	if m.cfg.ReadOnly {
		who := "no release running"
		if m.state.LockHolder != "" {
			who = m.state.LockHolder + " is deploying"
		}
		if m.holderGone != "" {
			who = "the deployer's process is gone"
		}
		line1 += "  " + st.Status.Render("READ-ONLY · "+who)
	}
	if m.state.Rollout != "" {
		line1 += "  " + st.Status.Render("rollout "+clean(m.state.Rollout))
	}
	lock := "lock: free"
	if m.state.LockHolder != "" {
		lock = "lock: " + m.state.LockHolder
	}
	if held := m.state.LockedHosts; len(held) > 0 {
		where := strings.Join(held, ", ")
		if len(held) == len(m.plan.Hosts) {
			where = fmt.Sprintf("%d hosts", len(held))
		}
		lock = "locked on " + clean(where)
		if m.state.LockHolder != "" {
			lock += " by " + m.state.LockHolder
		}
	}
	role := "operator"
	if m.cfg.ReadOnly {
		role = "watcher"
	}
	line2 := st.Dim.Render(fmt.Sprintf("%s · %s %s · docker %s", lock, role, m.cfg.Operator, m.cfg.Host))
	return []string{line1, line2}
}

// servicesTable is one row per service: group, image now → target, state, health, errors.
func (m Model) servicesTable() []string {
	st := m.styles
	nameW, groupW := 8, 8
	for _, s := range m.services {
		nameW, groupW = max(nameW, len(s.Service)), max(groupW, len(s.Group))
	}
	// The sparkline covers the last three minutes: a bar per 18 s, or per 6 s when roomy.
	spark, perBar := 10, 18
	if m.roomy() {
		spark, perBar = 30, 6
	}
	gateW := 0 // the error budgets beside the sparklines: "3/5 per 1m"
	for _, s := range m.services {
		if svc := m.state.Service(s.Service); svc != nil && svc.ErrorGate.Per > 0 {
			gateW = max(gateW, ansi.StringWidth(budgetText(svc.ErrorGate))+1)
		}
	}
	imageW := max(m.width-nameW-groupW-10-9-spark-7-gateW, 20-gateW/2)
	rows := []string{st.Dim.Render(fmt.Sprintf("%-*s %-*s %-*s %-10s %-9s %s", nameW, "SERVICE", groupW, "GROUP", imageW, "IMAGE NOW → TARGET", "STATE", "HEALTH", "ERRORS 3m"))}
	now := m.cfg.Now()
	for _, s := range m.services {
		image := shortRef(s.Image) + " " + shortID(s.ImageID)
		if s.Image == "" {
			image = "—"
		}
		image += " → " + shortRef(s.Target)
		if id := m.targetID(s.Target); id != "" {
			image += " " + shortID(id)
		}
		if s.Image == s.Target && s.Image != "" {
			image = shortRef(s.Target) + " " + shortID(s.ImageID) + " ✓"
		}
		state := fmt.Sprintf("%-10s", s.State)
		switch s.State {
		case "running":
			state = st.OK.Render(state)
		case "exited", "dead", "missing":
			state = st.Error.Render(state)
		}
		health := fmt.Sprintf("%-9s", orNone(s.Health))
		if s.Health == "unhealthy" {
			health = st.Error.Render(health)
		}
		if s.Health == "" {
			health = m.gate(s.Service)
		}
		if svc := m.state.Service(s.Service); svc != nil && svc.Tasks != nil {
			state, health = m.swarmCells(*svc.Tasks)
		}
		counts := bucket(m.cfg.Logs.Counts().PerSecond(s.Service, logs.LevelError, now, spark*perBar), perBar)
		rows = append(rows, fmt.Sprintf("%-*s %-*s %s %s %s %s%s", nameW, s.Service, groupW, s.Group,
			pad(ansi.Truncate(image, imageW, "…"), imageW), state, health, m.sparkline(counts, m.switchBuckets(s.Service, now, spark, perBar)), m.budget(s.Service)))
	}
	return rows
}

// budget is a service's error budget as its new container fills it, after
// a space: red once beyond it, yellow from half of it.
func (m Model) budget(service string) string {
	svc := m.state.Service(service)
	if svc == nil {
		return ""
	}
	g := svc.ErrorGate
	text := budgetText(g)
	switch {
	case text == "":
		return ""
	case g.Result == plans.ResultFailed || g.Count > g.Budget:
		return " " + m.styles.Error.Render(text)
	case g.Count*2 >= g.Budget && g.Count > 0:
		return " " + m.styles.Warn.Render(text)
	case g.Result == plans.ResultOK:
		return " " + m.styles.OK.Render(text)
	}
	return " " + text
}

// budgetText is "3/5 per 1m": the table's column already says errors.
func budgetText(g plans.ErrorGateStatus) string {
	text := strings.TrimPrefix(g.Text(), "errors ")
	if g.Result == plans.ResultFailed {
		text = "✗ " + text
	}
	return text
}

// targetID is the image ID of a target image, once preload has seen it.
func (m Model) targetID(ref string) string {
	for _, img := range m.state.Preload.Images {
		if img.Ref == ref {
			return img.ID
		}
	}
	return ""
}

// gate is a service's latest health gate result and its age, 9 columns wide.
func (m Model) gate(service string) string {
	svc := m.state.Service(service)
	if svc != nil && !svc.Window.IsZero() { // passed its first check, under watch
		left := svc.Window.Sub(m.cfg.Now()) + time.Second - 1 // whole seconds, rounded up
		return m.styles.Running.Render(fmt.Sprintf("%-9s", "stable "+shortAge(left)))
	}
	if svc == nil || svc.Health.Result == "" {
		return fmt.Sprintf("%-9s", "—")
	}
	age := m.cfg.Now().Sub(svc.Health.Time)
	text := fmt.Sprintf("%-9s", "✓ "+shortAge(age))
	if svc.Health.Result != plans.ResultOK {
		return m.styles.Error.Render(fmt.Sprintf("%-9s", "✗ "+shortAge(age)))
	}
	return m.styles.OK.Render(text)
}

// shortAge is a duration in at most four characters: 9s, 12m, 3h.
func shortAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d/time.Second), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%dh", int(d/time.Hour))
}

// stepsLine is the plan as one line of symbols, with the current step named.
func (m Model) stepsLine() string {
	var b strings.Builder
	b.WriteString(m.styles.Dim.Render("steps "))
	var current string
	for i, s := range m.state.CurrentSteps() {
		b.WriteString(m.stepSymbol(s) + fmt.Sprint(i+1) + " ")
		if s.State == "running" || (s.State == "failed" && current == "") {
			current = s.Name
		}
	}
	if current != "" {
		b.WriteString("· " + clean(current))
	}
	return b.String()
}

func (m Model) stepSymbol(s plans.StepState) string {
	st := m.styles
	switch s.State {
	case "running":
		return st.Running.Render(m.spin.View())
	case "done":
		return st.OK.Render("✓")
	case "failed":
		return st.Error.Render("✗")
	case "skipped":
		return st.Dim.Render("–")
	}
	return st.Dim.Render("·")
}

// preloadLines show each image's progress while the preload runs, and its
// failure afterwards.
func (m Model) preloadLines(always bool, refW, barW int) []string {
	pl := m.state.Preload
	if !always && (pl.Done || m.cfg.ReadOnly && !pl.Started) {
		return nil
	}
	st := m.styles
	var rows []string
	for _, img := range pl.Images {
		var status string
		switch {
		case img.Result == plans.ResultPresent, img.Result == plans.ResultPulled:
			status = st.OK.Render("✓ " + img.Result)
		case img.Result == plans.ResultFailed:
			status = st.Error.Render("✗ " + firstLine(img.Error))
		case pl.Error != "": // the preload ended before this image
			status = st.Warn.Render("– not pulled")
		default:
			cur, total := int64(0), int64(0)
			for _, l := range img.Layers {
				cur, total = cur+l[0], total+l[1]
			}
			status = st.Running.Render(m.spin.View()) + " " + bar(cur, total, barW) + fmt.Sprintf(" %d layers", len(img.Layers))
		}
		rows = append(rows, fmt.Sprintf("  %s %s", pad(ansi.Truncate(shortRef(img.Ref), refW, "…"), refW), status))
	}
	return rows
}

// roomyPanels puts the steps checklist beside the services at large sizes.
func (m Model) roomyPanels() []string {
	st := m.styles
	left := []string{st.Title.Render("PLAN")}
	for i, s := range m.state.CurrentSteps() {
		d := ""
		if s.Duration > 0 {
			d = st.Dim.Render(" " + s.Duration.Round(100*time.Millisecond).String())
		}
		if s.ExitCode != nil && *s.ExitCode != 0 {
			d += st.Error.Render(fmt.Sprintf(" exit %d", *s.ExitCode))
		}
		left = append(left, fmt.Sprintf("%s %d. %s%s", m.stepSymbol(s), i+1, clean(s.Name), d))
		if s.Kind == plans.StepVerify && s.State != "running" && len(s.Output) > 0 { // what it verified stays in sight
			left = append(left, st.Dim.Render("   └ "+clean(m.cfg.Engine.Mask(s.Output[len(s.Output)-1]))))
		}
	}
	left = append(left, "", st.Title.Render("IMAGES"))
	left = append(left, m.preloadLines(true, 18, 12)...)
	leftW := 46
	for i := range left {
		left[i] = pad(ansi.Truncate(left[i], leftW-1, "…"), leftW)
	}
	right := append([]string{st.Title.Render("SERVICES")}, m.servicesTableWidth(m.width-leftW)...)
	right = append(right, m.proxyLines()...)
	n := max(len(left), len(right))
	rows := make([]string, n)
	for i := range rows {
		l, r := strings.Repeat(" ", leftW), ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		rows[i] = l + r
	}
	return rows
}

func (m Model) servicesTableWidth(w int) []string {
	sub := m
	sub.width = w
	return sub.servicesTable()
}

// statusLine is the question being asked, or why the last key did nothing.
func (m Model) statusLine() string {
	st := m.styles
	switch {
	case m.inputMode != "":
		return m.input.View()
	case m.status != "" && m.cfg.Now().Sub(m.statusAt) < statusTTL:
		return st.Status.Render(clean(m.status))
	case m.holderGone != "":
		return st.Error.Render(clean(m.holderGone))
	case m.state.Error != "" && !m.state.Running():
		what, outcome := m.state.FirstFailure(), m.state.Outcome
		if what == "" {
			what = firstLine(m.state.Error)
		}
		if outcome == string(plans.Reverted) {
			outcome = "failed, then reverted"
			if step, ok := strings.CutSuffix(what, ": stopped by the operator"); ok {
				outcome, what = "stopped by the operator, then reverted", step
			}
		}
		return st.Error.Render(clean(outcome + ": " + what))
	}
	return ""
}

// outcomeLines say, once an operation ended, what each service runs now
// and how long each was not serving: the same figures as the journal,
// `golive watch`, the report and the headless summary.
func (m Model) outcomeLines() []string {
	if m.state.Running() || m.state.Outcome == "" {
		return nil
	}
	st := m.styles
	var now []string
	for _, svc := range m.state.Services {
		switch {
		case svc.Result == "":
			now = append(now, svc.Name+" unchanged")
		case svc.Result == plans.ResultReverted && svc.NowID == "":
			now = append(now, svc.Name+" removed")
		default:
			now = append(now, fmt.Sprintf("%s %s (%s)", svc.Name, shortRef(orNone(svc.Now)), svc.Result))
		}
	}
	rows := []string{st.Dim.Render("services now: ") + clean(strings.Join(now, " · "))}
	if impact := m.state.ImpactSummary(); impact != "" {
		rows = append(rows, st.Dim.Render("not serving:  ")+clean(impact))
	}
	return rows
}

// newerLine tells the read-only view that a newer release of the project started.
func (m Model) newerLine() []string {
	s := m.state
	if !m.cfg.ReadOnly || s.Newer == "" {
		return nil
	}
	return []string{m.styles.Status.Render(clean(fmt.Sprintf("release %s started at %s by %s: L follows it", s.Newer, s.NewerAt.Local().Format("15:04:05"), s.NewerBy)))}
}

// questionLine is a question waiting for an answer, with its keys: a line
// of its own, so that every other key keeps working meanwhile.
func (m Model) questionLine() []string {
	st := m.styles
	switch {
	case m.pending != "":
		return []string{st.Question.Render(" ? "+m.confirmText()+" ") + "  y yes · c no"}
	case m.asking != nil:
		return []string{st.Question.Render(" ? "+clean(m.asking.text)+" ") + "  y yes · c no"}
	case m.cfg.ReadOnly && m.state.Asking != "":
		return []string{st.Status.Render(clean(m.state.AskedBy + " is asked: " + m.state.Asking))}
	}
	return nil
}

// confirmText names what a pending operation will change.
func (m Model) confirmText() string {
	switch m.pending {
	case opRevert:
		if warm := m.warmNote(); warm != "" {
			return "Revert: put back the images that ran before the latest apply? " + warm
		}
		return "Revert: put back the images that ran before the latest apply?"
	case opStop:
		if warm := m.warmNote(); warm != "" {
			return "Stop the release where it is and revert what it changed? " + warm
		}
		return "Stop the release where it is and revert what it changed?"
	}
	var changes []string
	for _, s := range m.services {
		if s.Image != s.Target {
			changes = append(changes, fmt.Sprintf("%s %s→%s", s.Service, orNone(shortRef(s.Image)), shortRef(s.Target)))
		}
	}
	if len(changes) == 0 {
		changes = []string{"nothing to change"}
	}
	return "Deploy " + m.plan.Release + ": " + strings.Join(changes, ", ") + "?"
}

func (m Model) footer() string {
	return m.help.View(helpKeys{k: m.keys, asking: m.asking != nil || m.pending != "", readOnly: m.cfg.ReadOnly, newer: m.state.Newer != "",
		applying: m.running == opApply, stopping: m.stopping || m.Phase() == plans.PhaseReverting, sources: m.sourceNames()})
}

// bucket sums counts in groups of n.
func bucket(counts []int, n int) []int {
	out := make([]int, (len(counts)+n-1)/n)
	for i, c := range counts {
		out[i/n] += c
	}
	return out
}

// sparkline draws counts as bars, scaled to their maximum.
func sparkline(counts []int) string {
	const bars = "▁▂▃▄▅▆▇█"
	peak := 0
	for _, c := range counts {
		peak = max(peak, c)
	}
	var b strings.Builder
	for _, c := range counts {
		switch {
		case c == 0:
			b.WriteString(" ")
		default:
			i := (c*7 + peak - 1) / peak
			b.WriteString(string([]rune(bars)[i]))
		}
	}
	return b.String()
}

func bar(cur, total int64, width int) string {
	filled := 0
	if total > 0 {
		filled = int(float64(width) * float64(min(cur, total)) / float64(total))
	}
	return strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 7 {
		id = id[:7]
	}
	return id
}

// shortRef drops the registry and path of an image reference: api:2.4.0.
func shortRef(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func pad(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// clean makes text from a plan or an error safe to draw.
func clean(s string) string { return logs.SanitizeString(s) }

package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"github.com/golive/golive/plans"
)

// Styles are every colour and emphasis of the cockpit, in one place. Each
// state also has a symbol, so it reads without colour (NO_COLOR, 16 colours).
type Styles struct {
	Header, Title, Dim, Bold    lipgloss.Style
	Phase                       map[plans.Phase]lipgloss.Style // the header's badge of each phase
	Error, Warn, OK, Running    lipgloss.Style
	ErrorLine, WarnLine, Marker lipgloss.Style
	Match, Status, Question     lipgloss.Style
	Sources                     []lipgloss.Style
}

// DefaultStyles uses the 16 ANSI colours, which every terminal maps to
// readable ones and which survive tmux and screen unchanged.
func DefaultStyles() Styles {
	fg := func(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	badge := func(c color.Color) lipgloss.Style {
		return lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Black).Background(c).Padding(0, 1)
	}
	return Styles{
		Header:  lipgloss.NewStyle().Bold(true),
		Title:   lipgloss.NewStyle().Bold(true).Underline(true),
		Dim:     lipgloss.NewStyle().Faint(true),
		Bold:    lipgloss.NewStyle().Bold(true),
		Error:   fg(lipgloss.Red).Bold(true),
		Warn:    fg(lipgloss.Yellow),
		OK:      fg(lipgloss.Green),
		Running: fg(lipgloss.Cyan),
		Phase: map[plans.Phase]lipgloss.Style{
			plans.PhasePreloading:       badge(lipgloss.Cyan),
			plans.PhaseReady:            badge(lipgloss.Blue),
			plans.PhaseDeploying:        badge(lipgloss.Yellow),
			plans.PhaseDeployed:         badge(lipgloss.Green),
			plans.PhaseFailed:           badge(lipgloss.Red),
			plans.PhasePreloadFailed:    badge(lipgloss.Yellow),
			plans.PhaseReverting:        badge(lipgloss.Magenta),
			plans.PhaseReverted:         badge(lipgloss.Magenta),
			plans.PhaseRevertIncomplete: badge(lipgloss.Red),
		},
		ErrorLine: fg(lipgloss.Red),
		WarnLine:  fg(lipgloss.Yellow),
		Marker:    fg(lipgloss.Magenta).Bold(true),
		Match:     lipgloss.NewStyle().Reverse(true),
		Status:    fg(lipgloss.Yellow).Bold(true),
		Question:  lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Black).Background(lipgloss.Yellow),
		Sources: []lipgloss.Style{
			fg(lipgloss.Cyan), fg(lipgloss.Magenta), fg(lipgloss.Blue), fg(lipgloss.Green),
			fg(lipgloss.BrightCyan), fg(lipgloss.BrightMagenta), fg(lipgloss.BrightBlue), fg(lipgloss.BrightGreen),
		},
	}
}

// Help styles the footer in the same 16 colours.
func (s Styles) Help() help.Styles {
	return help.Styles{
		ShortKey: s.Bold, ShortDesc: s.Dim, ShortSeparator: s.Dim, Ellipsis: s.Dim,
		FullKey: s.Bold, FullDesc: s.Dim, FullSeparator: s.Dim,
	}
}

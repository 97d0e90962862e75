package tui

import (
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
)

// Run opens the cockpit on the terminal until the operator quits.
// record, when set, is the path of an asciicast recording to write.
func Run(cfg Config, record string) error {
	opts := []tea.ProgramOption{}
	if record != "" {
		w, h, err := term.GetSize(os.Stdout.Fd())
		if err != nil {
			w, h = minWidth, minHeight
		}
		rec, err := NewRecorder(record, os.Stdout, w, h, "golive "+cfg.Engine.Plan().Project+" "+cfg.Engine.Plan().Release, cfg.Engine.Mask)
		if err != nil {
			return err
		}
		defer rec.Close()
		cfg.Recorder = rec
		opts = append(opts, tea.WithOutput(rec))
	}
	_, err := tea.NewProgram(New(cfg), opts...).Run()
	cfg.Bridge.Close()
	return err
}

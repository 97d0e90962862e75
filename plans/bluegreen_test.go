package plans

import (
	"testing"
	"time"

	"github.com/golive/golive/docker"
)

func TestWarmNamesSayUntilWhen(t *testing.T) {
	until := time.Date(2026, 11, 26, 5, 12, 0, 0, time.UTC)
	name := warmName("shop-web", until)
	if name != "shop-web.warm-until-20261126T051200Z" {
		t.Fatalf("warm name %s", name)
	}
	tests := []struct {
		name, base, container string
		warm                  bool
		kept                  bool
	}{
		{"its own warm container", "shop-web", name, true, true},
		{"another service's", "shop-web2", name, false, false},
		{"the kept stopped one", "shop-web", "shop-web.prev", false, true},
		{"the serving one", "shop-web", "shop-web", false, false},
		{"a mangled time", "shop-web", "shop-web.warm-until-soon", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := warmUntil(tt.base, tt.container)
			if ok != tt.warm || ok && !got.Equal(until) {
				t.Errorf("warmUntil = %s, %v", got, ok)
			}
			if k := kept(docker.Container{Name: tt.container, Labels: map[string]string{LabelContainer: tt.base}}); k != tt.kept {
				t.Errorf("kept = %v", k)
			}
		})
	}
}

func TestStateFoldsSwitchesWarmVersionsAndCanaries(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	base := Event{Project: "shop", Release: "2", Run: "r1", Service: "web", Group: "front"}
	ev := func(s int, kind, action string, f func(*Event)) Event {
		e := base
		e.Time, e.Kind, e.Action = at(s), kind, action
		if f != nil {
			f(&e)
		}
		return e
	}
	events := []Event{
		ev(0, EvApplyStart, "", nil),
		ev(1, EvServiceStart, "", func(e *Event) { e.Image, e.PrevImage, e.PrevContainerID = "web:2", "web:1", "old" }),
		ev(2, EvServiceChange, ActionBeside, func(e *Event) { e.Image, e.ContainerID = "web:2", "new" }),
		ev(3, EvServiceChange, ActionCanary, func(e *Event) { e.Current, e.DurationMS = 10, 60000 }),
	}
	s := NewStateOf("shop", "2")
	for _, e := range events {
		s.Apply(e)
	}
	web := s.Service("web")
	if web.Now != "web:1" || web.Canary != (CanaryShare{Percent: 10, Since: at(3), For: time.Minute}) || web.Proxied() {
		t.Fatalf("during the canary: now %s, canary %+v, proxied %v", web.Now, web.Canary, web.Proxied())
	}
	for _, e := range []Event{
		ev(63, EvServiceChange, ActionSwitched, func(e *Event) {
			e.Image, e.ContainerID, e.PrevContainerID, e.DurationMS, e.KeepWarmMS = "web:2", "new", "old", 70, 600000
		}),
		ev(64, EvServiceEnd, "", func(e *Event) { e.Image, e.ContainerID, e.Result = "web:2", "new", ResultDeployed }),
		ev(65, EvApplyEnd, "", func(e *Event) { e.Result = string(Deployed) }),
	} {
		s.Apply(e)
	}
	want := WarmVersion{Image: "web:1", Container: "old", Until: at(663)}
	if web.Now != "web:2" || web.Container != "new" || web.Warm != want || web.WarmLeft(at(603)) != time.Minute || web.WarmLeft(at(700)) != 0 ||
		web.Canary != (CanaryShare{}) || len(web.Unavailable) != 0 || !web.Proxied() {
		t.Fatalf("after the switch: now %s in %s, warm %+v, canary %+v, unavailable %+v", web.Now, web.Container, web.Warm, web.Canary, web.Unavailable)
	}
	for _, e := range []Event{
		ev(100, EvRevertStart, "", nil),
		ev(101, EvServiceChange, ActionSwitched, func(e *Event) { e.Image, e.ContainerID, e.DurationMS = "web:1", "old", 60 }),
		ev(102, EvRevertService, "", func(e *Event) {
			e.Image, e.PrevImage, e.PrevImageID, e.Result = "web:2", "web:1", "sha256:1", ResultReverted
		}),
		ev(103, EvRevertEnd, "", func(e *Event) { e.Result = ResultReverted }),
	} {
		s.Apply(e)
	}
	sw := web.Switches
	if web.Now != "web:1" || web.NowID != "sha256:1" || web.Container != "old" || web.Warm != (WarmVersion{}) || len(sw) != 2 || sw[0].Back || !sw[1].Back ||
		sw[0].Took != 70*time.Millisecond || sw[1].From != "web:2" || sw[1].To != "web:1" || len(web.Unavailable) != 0 || s.Phase() != PhaseReverted {
		t.Fatalf("after the switch back: now %s in %s, warm %+v, switches %+v, unavailable %+v, phase %s", web.Now, web.Container, web.Warm, sw, web.Unavailable, s.Phase())
	}
}

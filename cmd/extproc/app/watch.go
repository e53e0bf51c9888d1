package app

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watch reloads when the config file or a rule file changes. It watches the
// parent directories, not the files, because a Kubernetes ConfigMap update
// swaps a symlink (..data) rather than writing the files in place.
func (a *App) watch(ctx context.Context) {
	a.mu.Lock()
	enabled := a.cfg.Reload.Watch
	a.mu.Unlock()
	if !enabled {
		<-ctx.Done()
		return
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		a.logger.Error("file watching disabled", "error", err)
		<-ctx.Done()
		return
	}
	defer w.Close()
	dirs := map[string]bool{}
	rewatch := func() {
		a.mu.Lock()
		files := append([]string(nil), a.watched...)
		a.mu.Unlock()
		for _, f := range files {
			d := filepath.Dir(f)
			if !dirs[d] {
				if err := w.Add(d); err != nil {
					a.logger.Warn("cannot watch directory", "dir", d, "error", err)
					continue
				}
				dirs[d] = true
			}
		}
	}
	rewatch()
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			a.mu.Lock()
			debounce := a.cfg.Reload.Debounce
			a.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(debounce)
			} else {
				timer.Reset(debounce)
			}
			fire = timer.C
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			a.logger.Warn("file watcher error", "error", err)
		case <-fire:
			fire = nil
			_ = a.Reload(ctx)
			rewatch()
		}
	}
}

// powercut-fs: a FUSE file system that forgets everything not fsynced when the power is "cut".
// Test tooling only (see README.md beside this file): the gateway's buffer is put on it, and a
// test cuts the power with SIGUSR1 (or SIGTERM/SIGINT), then remounts over the durable directory.
//
//	powercut-fs -durable DIR -work DIR -mount DIR
//
// Prints one JSON line when mounted ({"event":"mounted",...}) and one when cut
// ({"event":"cut","lostFiles":..,"lostBytes":..,...}), then exits without flushing anything.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

func main() {
	durable := flag.String("durable", "", "directory holding what survives a cut (only fsynced data)")
	work := flag.String("work", "", "scratch directory for the working copy (emptied at start)")
	mount := flag.String("mount", "", "mount point")
	flag.Parse()
	if *durable == "" || *work == "" || *mount == "" {
		fail(fmt.Errorf("-durable, -work and -mount are required"))
	}
	// Before anything is announced: Go ignores a SIGUSR1 that arrives before Notify.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	if err := os.MkdirAll(*durable, 0o755); err != nil {
		fail(err)
	}
	// Power comes back: the working copy starts as exactly what was durable.
	if err := os.RemoveAll(*work); err != nil {
		fail(err)
	}
	if err := copyTree(*durable, *work); err != nil {
		fail(err)
	}
	l := newLayer(*work, *durable)

	var st syscall.Stat_t
	if err := syscall.Stat(*work, &st); err != nil {
		fail(err)
	}
	root := &fs.LoopbackRoot{Path: *work, Dev: uint64(st.Dev)}
	root.NewNode = newVNode(l)
	rootNode := root.NewNode(root, nil, "", &st)
	root.RootNode = rootNode
	second := time.Second
	server, err := fs.Mount(*mount, rootNode, &fs.Options{
		// Only this mount changes the working copy, so the kernel may cache names and attributes.
		EntryTimeout: &second,
		AttrTimeout:  &second,
		MountOptions: fuse.MountOptions{
			FsName:        "powercut",
			Name:          "powercut-fs",
			DirectMount:   true, // mount(2) as root; fusermount only as a fallback
			DisableXAttrs: true,
		},
	})
	if err != nil {
		fail(err)
	}
	emit(map[string]any{"event": "mounted", "mount": *mount, "durable": *durable, "pid": os.Getpid()})

	go func() {
		server.Wait() // unmounted from outside: no cut, just go
		os.Exit(0)
	}()
	<-sigs
	cut(l)
}

// cut waits for syncs in progress, refuses any later one, reports what is lost and exits. The
// kernel then answers every request on the mount with ENOTCONN until it is unmounted.
func cut(l *layer) {
	l.power.Lock()
	l.cut = true
	files, bytes := l.dirtyBytes()
	emit(map[string]any{
		"event":       "cut",
		"lostFiles":   files,
		"lostBytes":   bytes,
		"fsyncs":      l.fsyncs.Load(),
		"fdatasyncs":  l.fdatasyncs.Load(),
		"dirsyncs":    l.dirsyncs.Load(),
		"bytesSynced": l.bytesSynced.Load(),
		"fullCopies":  l.fullCopies.Load(),
	})
	os.Exit(0)
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "powercut-fs:", err)
	os.Exit(2)
}

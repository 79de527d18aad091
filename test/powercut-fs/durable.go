package main

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
)

// pageSize is the granularity of the dirty set, as in a page cache: a write of one byte makes its
// whole 4 KiB page unsynced, and an fsync copies whole pages (clipped to the file's size).
const pageSize = 4096

// layer owns the two copies: `work` is what the mount shows (everything written), `durable` is
// what survives a cut (only what was fsynced). fsync and fsyncdir hold `power` for reading; a cut
// takes it for writing, so a sync is either wholly before the cut or refused after it.
type layer struct {
	work, durable string

	power sync.RWMutex
	cut   bool

	dirtyMu sync.Mutex
	dirty   map[*vnode]struct{}

	fsyncs, fdatasyncs, dirsyncs, bytesSynced, fullCopies atomic.Int64
}

func newLayer(work, durable string) *layer {
	return &layer{work: work, durable: durable, dirty: make(map[*vnode]struct{})}
}

func (l *layer) track(n *vnode) {
	l.dirtyMu.Lock()
	l.dirty[n] = struct{}{}
	l.dirtyMu.Unlock()
}

func (l *layer) untrack(n *vnode) {
	l.dirtyMu.Lock()
	delete(l.dirty, n)
	l.dirtyMu.Unlock()
}

// syncFile makes the node's data and size durable: its dirty pages (or, when the durable image is
// not known to be this file's, the whole file) are copied to the durable path, which is then cut
// to the file's size. The file's name (and its parents') becomes durable too: see README.md.
func (l *layer) syncFile(n *vnode, datasync bool) syscall.Errno {
	l.power.RLock()
	defer l.power.RUnlock()
	if l.cut {
		return syscall.EIO
	}
	if datasync {
		l.fdatasyncs.Add(1)
	} else {
		l.fsyncs.Add(1)
	}
	if _, parent := n.Parent(); parent == nil && !n.IsRoot() {
		// Unlinked while open: nothing on the durable side can ever reach it again.
		n.mu.Lock()
		n.dirty, n.sizeDirty = nil, false
		n.mu.Unlock()
		l.untrack(n)
		return 0
	}
	// Take the dirty set first: a write that lands while copying is marked again and is copied by
	// the next fsync (it may be copied now as well, which a real disk may also do).
	n.mu.Lock()
	pages, full := n.dirty, !n.bound
	n.dirty, n.sizeDirty, n.bound = nil, false, true
	n.mu.Unlock()
	l.untrack(n)

	rel := n.relPath()
	if errno := l.copyToDurable(rel, pages, full); errno != 0 {
		n.mu.Lock()
		n.bound = false // try the whole file again next time
		n.mu.Unlock()
		return errno
	}
	return 0
}

func (l *layer) copyToDurable(rel string, pages map[int64]struct{}, full bool) syscall.Errno {
	src, err := os.Open(filepath.Join(l.work, rel))
	if err != nil {
		return fs.ToErrno(err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return fs.ToErrno(err)
	}
	dst := filepath.Join(l.durable, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fs.ToErrno(err)
	}
	flags := os.O_WRONLY | os.O_CREATE
	if full {
		flags |= os.O_TRUNC
	}
	out, err := os.OpenFile(dst, flags, st.Mode().Perm())
	if err != nil {
		return fs.ToErrno(err)
	}
	defer out.Close()
	size := st.Size()
	if full {
		n, err := io.Copy(out, src)
		l.fullCopies.Add(1)
		l.bytesSynced.Add(n)
		if err != nil {
			return fs.ToErrno(err)
		}
	} else {
		order := make([]int64, 0, len(pages))
		for p := range pages {
			order = append(order, p)
		}
		sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
		buf := make([]byte, pageSize)
		for _, p := range order {
			off := p * pageSize
			if off >= size {
				continue
			}
			k, err := src.ReadAt(buf[:min(pageSize, size-off)], off)
			if err != nil && err != io.EOF {
				return fs.ToErrno(err)
			}
			if _, err := out.WriteAt(buf[:k], off); err != nil {
				return fs.ToErrno(err)
			}
			l.bytesSynced.Add(int64(k))
		}
	}
	// The durable side is the simulated platter: no host fsync, only a cut can lose data here.
	return fs.ToErrno(out.Truncate(size))
}

// syncDir makes a directory's entries durable: names created since are created on the durable
// side (empty, for a file whose data was never synced; directories empty), names removed or
// renamed away are removed. Renames are therefore remove + create: see README.md.
func (l *layer) syncDir(n *vnode) syscall.Errno {
	l.power.RLock()
	defer l.power.RUnlock()
	if l.cut {
		return syscall.EIO
	}
	l.dirsyncs.Add(1)
	rel := n.relPath()
	workDir, durDir := filepath.Join(l.work, rel), filepath.Join(l.durable, rel)
	if err := os.MkdirAll(durDir, 0o755); err != nil {
		return fs.ToErrno(err)
	}
	want, err := os.ReadDir(workDir)
	if err != nil {
		return fs.ToErrno(err)
	}
	have, err := os.ReadDir(durDir)
	if err != nil {
		return fs.ToErrno(err)
	}
	wantType := make(map[string]os.FileMode, len(want))
	for _, e := range want {
		wantType[e.Name()] = e.Type()
	}
	haveType := make(map[string]os.FileMode, len(have))
	for _, e := range have {
		if t, ok := wantType[e.Name()]; ok && t == e.Type() {
			haveType[e.Name()] = e.Type()
			continue
		}
		if err := os.RemoveAll(filepath.Join(durDir, e.Name())); err != nil {
			return fs.ToErrno(err)
		}
	}
	for _, e := range want {
		if _, ok := haveType[e.Name()]; ok {
			continue
		}
		if err := createEmpty(filepath.Join(workDir, e.Name()), filepath.Join(durDir, e.Name()), e); err != nil {
			return fs.ToErrno(err)
		}
	}
	return 0
}

func createEmpty(workPath, durPath string, e os.DirEntry) error {
	info, err := e.Info()
	if err != nil {
		return err
	}
	switch {
	case e.IsDir():
		return os.Mkdir(durPath, info.Mode().Perm())
	case e.Type()&os.ModeSymlink != 0:
		target, err := os.Readlink(workPath)
		if err != nil {
			return err
		}
		return os.Symlink(target, durPath)
	case e.Type().IsRegular():
		f, err := os.OpenFile(durPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		return f.Close()
	}
	return nil // devices, fifos, sockets: not modelled
}

// dirtyBytes is what a cut now would lose (pages written and not yet synced, tracked nodes).
func (l *layer) dirtyBytes() (files int, bytes int64) {
	l.dirtyMu.Lock()
	defer l.dirtyMu.Unlock()
	for n := range l.dirty {
		n.mu.Lock()
		if len(n.dirty) > 0 || n.sizeDirty {
			files++
			bytes += int64(len(n.dirty)) * pageSize
		}
		n.mu.Unlock()
	}
	return files, bytes
}

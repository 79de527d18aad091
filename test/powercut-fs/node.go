package main

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// vnode is a loopback node over the working copy that remembers which pages of the file were
// written since its last fsync. Namespace operations (lookup, mkdir, unlink, rename...) are the
// loopback's own, on the working copy; only fsync and fsyncdir reach the durable directory.
type vnode struct {
	fs.LoopbackNode
	layer *layer

	mu        sync.Mutex
	dirty     map[int64]struct{} // page index -> written since the last fsync
	sizeDirty bool               // truncated or extended since the last fsync
	// bound: the durable file at this node's path is this file's last synced image, so an fsync
	// copies only the dirty pages. False for a node that is new, renamed, or first seen after a
	// remount: its first fsync copies the whole file (more than needed, never less).
	bound bool
}

// fsyncFdatasync is FUSE_FSYNC_FDATASYNC (include/uapi/linux/fuse.h): fdatasync(2), not fsync(2).
const fsyncFdatasync = 1

func newVNode(l *layer) func(*fs.LoopbackRoot, *fs.Inode, string, *syscall.Stat_t) fs.InodeEmbedder {
	return func(root *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &vnode{LoopbackNode: fs.LoopbackNode{RootData: root}, layer: l}
	}
}

// markWritten records [off, off+n) as unsynced.
func (n *vnode) markWritten(off int64, size int64) {
	if size <= 0 {
		return
	}
	n.mu.Lock()
	if n.dirty == nil {
		n.dirty = make(map[int64]struct{})
	}
	for p := off / pageSize; p <= (off+size-1)/pageSize; p++ {
		n.dirty[p] = struct{}{}
	}
	n.mu.Unlock()
	n.layer.track(n)
}

func (n *vnode) markResized() {
	n.mu.Lock()
	n.sizeDirty = true
	n.mu.Unlock()
	n.layer.track(n)
}

// relPath is the node's path under the mount root ("" for the root itself).
func (n *vnode) relPath() string {
	return n.Path(n.Root())
}

var _ = (fs.NodeOpener)((*vnode)(nil))

func (n *vnode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return wrapFile(n, fh), fuseFlags, 0
}

var _ = (fs.NodeCreater)((*vnode)(nil))

func (n *vnode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	child, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	return child, wrapFile(child.Operations().(*vnode), fh), fuseFlags, 0
}

var _ = (fs.NodeSetattrer)((*vnode)(nil))

func (n *vnode) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if vf, ok := f.(*vfile); ok {
		f = vf.inner
	}
	errno := n.LoopbackNode.Setattr(ctx, f, in, out)
	if _, ok := in.GetSize(); ok && errno == 0 {
		n.markResized()
	}
	return errno
}

var _ = (fs.NodeFsyncer)((*vnode)(nil))

// Fsync is fsync/fdatasync of a file, and fsyncdir of a directory (the dir handle below has no
// Fsyncdir of its own, so go-fuse asks the node).
func (n *vnode) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if n.IsDir() {
		return n.layer.syncDir(n)
	}
	return n.layer.syncFile(n, flags&fsyncFdatasync != 0)
}

var _ = (fs.NodeOpendirHandler)((*vnode)(nil))

func (n *vnode) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &vdir{inner: fh}, fuseFlags, 0
}

var _ = (fs.NodeRenamer)((*vnode)(nil))

func (n *vnode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	moved := []*fs.Inode{n.GetChild(name), newParent.EmbeddedInode().GetChild(newName)} // the second: RENAME_EXCHANGE
	errno := n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
	if errno != 0 {
		return errno
	}
	for _, in := range moved {
		if in == nil {
			continue
		}
		if v, ok := in.Operations().(*vnode); ok {
			v.mu.Lock()
			v.bound = false
			v.mu.Unlock()
		}
	}
	return 0
}

var _ = (fs.NodeCopyFileRanger)((*vnode)(nil))

// CopyFileRange is refused so that the kernel falls back to read + write, which are tracked.
func (n *vnode) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, size uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EOPNOTSUPP
}

var _ = (fs.NodeTmpfiler)((*vnode)(nil))

// Tmpfile (O_TMPFILE) is not modelled; ENOSYS makes the kernel stop asking.
func (n *vnode) Tmpfile(ctx context.Context, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.ENOSYS
}

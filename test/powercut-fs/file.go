package main

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// vfile wraps the loopback's file handle. It exists for two reasons: every write is recorded as
// unsynced on its node, and the handle does NOT offer a passthrough fd (go-fuse would otherwise
// let the kernel read and write the working copy directly, behind the layer's back).
type vfile struct {
	node  *vnode
	inner fs.FileHandle
}

func wrapFile(n *vnode, fh fs.FileHandle) *vfile {
	return &vfile{node: n, inner: fh}
}

var _ = (fs.FileReader)((*vfile)(nil))

func (f *vfile) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return f.inner.(fs.FileReader).Read(ctx, buf, off)
}

var _ = (fs.FileWriter)((*vfile)(nil))

func (f *vfile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, errno := f.inner.(fs.FileWriter).Write(ctx, data, off)
	f.node.markWritten(off, int64(n))
	return n, errno
}

var _ = (fs.FileWritever)((*vfile)(nil))

func (f *vfile) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	n, errno := f.inner.(fs.FileWritever).Writev(ctx, data, off)
	f.node.markWritten(off, int64(n))
	return n, errno
}

var _ = (fs.FileAllocater)((*vfile)(nil))

func (f *vfile) Allocate(ctx context.Context, off uint64, size uint64, mode uint32) syscall.Errno {
	errno := f.inner.(fs.FileAllocater).Allocate(ctx, off, size, mode)
	if errno == 0 {
		f.node.markWritten(int64(off), int64(size))
		f.node.markResized()
	}
	return errno
}

var _ = (fs.FileGetattrer)((*vfile)(nil))

func (f *vfile) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.inner.(fs.FileGetattrer).Getattr(ctx, out)
}

var _ = (fs.FileLseeker)((*vfile)(nil))

func (f *vfile) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.inner.(fs.FileLseeker).Lseek(ctx, off, whence)
}

var _ = (fs.FileFlusher)((*vfile)(nil))

// Flush (close(2)) persists nothing, as on a real disk.
func (f *vfile) Flush(ctx context.Context) syscall.Errno {
	return f.inner.(fs.FileFlusher).Flush(ctx)
}

var _ = (fs.FileReleaser)((*vfile)(nil))

func (f *vfile) Release(ctx context.Context) syscall.Errno {
	return f.inner.(fs.FileReleaser).Release(ctx)
}

// vdir wraps a directory handle without its Fsyncdir, so that fsync(dirfd) reaches vnode.Fsync.
type vdir struct {
	inner fs.FileHandle
}

var _ = (fs.FileReaddirenter)((*vdir)(nil))

func (d *vdir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	return d.inner.(fs.FileReaddirenter).Readdirent(ctx)
}

var _ = (fs.FileSeekdirer)((*vdir)(nil))

func (d *vdir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	return d.inner.(fs.FileSeekdirer).Seekdir(ctx, off)
}

var _ = (fs.FileReleasedirer)((*vdir)(nil))

func (d *vdir) Releasedir(ctx context.Context, flags uint32) {
	d.inner.(fs.FileReleasedirer).Releasedir(ctx, flags)
}

package onnx

import (
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// kernelCopy copies n bytes of src, starting at offset off, to dst at dst's
// current file offset, without passing them through user memory: it uses
// copy_file_range(2) and, where that fails (EXDEV across file systems on
// some kernels, ENOSYS, EINVAL, EOPNOTSUPP, ...), sendfile(2). It returns
// how many bytes it copied; when that is less than n, the caller writes the
// rest itself, and err says why the kernel could not.
func kernelCopy(dst, src *os.File, off, n int64) (int64, error) {
	dfd, sfd := int(dst.Fd()), int(src.Fd())
	defer runtime.KeepAlive(dst)
	defer runtime.KeepAlive(src)
	var done int64
	useCFR := true
	for done < n {
		chunk := n - done
		if chunk > 1<<30 {
			chunk = 1 << 30
		}
		o := off + done
		if useCFR {
			k, err := unix.CopyFileRange(sfd, &o, dfd, nil, int(chunk), 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil || k <= 0 {
				useCFR = false // try sendfile for the rest
				continue
			}
			done += int64(k)
			continue
		}
		k, err := unix.Sendfile(dfd, sfd, &o, int(chunk))
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return done, err
		}
		if k <= 0 {
			return done, io.ErrUnexpectedEOF
		}
		done += int64(k)
	}
	return done, nil
}

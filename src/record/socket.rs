//! Receiving datagrams with the best available receipt timestamp.
//!
//! On Linux the socket asks the kernel for `SO_TIMESTAMPNS`: each datagram comes with
//! the `CLOCK_REALTIME` instant at which the kernel received it, read with `recvmsg`
//! from the control messages. This leaves out the receiver's own scheduling delay
//! between the kernel and the application (which a heartbeat monitor would see in
//! production, but which is not network behaviour). Where that is not available the
//! receipt time is `CLOCK_REALTIME` read right after `recv` returns. On Linux the
//! kernel also reports, with `SO_RXQ_OVFL`, how many datagrams it dropped because the
//! socket's receive buffer was full, so a recording can tell its own losses from the
//! network's.

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Nanoseconds since the Unix epoch on `CLOCK_REALTIME` (the clock senders stamp).
pub fn realtime_ns() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Waits until `socket` has a datagram to read or `timeout` has passed, with
/// sub-millisecond precision on Linux (`ppoll`; socket read timeouts are rounded to
/// the kernel's scheduler tick, several ms). Elsewhere it sleeps up to 1 ms.
pub fn wait_readable(socket: &UdpSocket, timeout: std::time::Duration) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let mut fds = libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: one valid pollfd, a valid timespec, no signal mask.
        let rc = unsafe { libc::ppoll(&mut fds, 1, &ts, std::ptr::null()) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        std::thread::sleep(timeout.min(std::time::Duration::from_millis(1)));
        Ok(())
    }
}

/// Where a receipt time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// The kernel's `SO_TIMESTAMPNS` receive timestamp.
    Kernel,
    /// `CLOCK_REALTIME` read after `recv` returned.
    User,
}

/// Asks the kernel for receive timestamps on `socket`; returns whether it agreed.
pub fn enable_kernel_timestamps(socket: &UdpSocket) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: a valid socket descriptor and a pointer to an int of the stated size.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        rc == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        false
    }
}

/// Asks the kernel to count the datagrams it drops on `socket` for a full receive
/// buffer (`SO_RXQ_OVFL`) and to make that buffer `bytes` large (as far as the system
/// allows); returns whether the count is available.
pub fn enable_drop_count(socket: &UdpSocket, bytes: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let set = |opt: libc::c_int, v: libc::c_int| {
            // SAFETY: a valid socket descriptor and a pointer to an int of the stated size.
            unsafe {
                libc::setsockopt(
                    socket.as_raw_fd(),
                    libc::SOL_SOCKET,
                    opt,
                    (&v as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            }
        };
        let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        // Beyond net.core.rmem_max only with CAP_NET_ADMIN; either may fail harmlessly.
        if set(libc::SO_RCVBUFFORCE, size) != 0 {
            set(libc::SO_RCVBUF, size);
        }
        set(libc::SO_RXQ_OVFL, 1) == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (socket, bytes);
        false
    }
}

/// One datagram as [`recv_stamped`] received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Its length (at most the buffer's).
    pub len: usize,
    /// Its source.
    pub from: SocketAddr,
    /// Its receipt time, ns since the Unix epoch.
    pub at: i64,
    /// Where that time came from.
    pub stamp: Stamp,
    /// The datagrams the kernel had dropped on this socket for a full buffer when this one
    /// was queued (with [`enable_drop_count`]; `None` while there were none).
    pub kernel_dropped: Option<u32>,
}

/// Receives one datagram into `buf`, with its receipt time: the kernel's when `kernel`
/// is set and available. Honours the socket's read timeout (`WouldBlock`/`TimedOut`).
pub fn recv_stamped(socket: &UdpSocket, buf: &mut [u8], kernel: bool) -> io::Result<Received> {
    #[cfg(target_os = "linux")]
    {
        let (len, from, ts, kernel_dropped) = linux::recvmsg_stamped(socket, buf)?;
        let (at, stamp) = match ts {
            Some(t) if kernel => (t, Stamp::Kernel),
            _ => (realtime_ns(), Stamp::User),
        };
        Ok(Received {
            len,
            from,
            at,
            stamp,
            kernel_dropped,
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = kernel;
        let (len, from) = socket.recv_from(buf)?;
        Ok(Received {
            len,
            from,
            at: realtime_ns(),
            stamp: Stamp::User,
            kernel_dropped: None,
        })
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
    use std::os::fd::AsRawFd;

    pub fn recvmsg_stamped(
        socket: &UdpSocket,
        buf: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, Option<i64>, Option<u32>)> {
        // SAFETY: all-zero is a valid value of these plain C structs.
        let mut addr: libc::sockaddr_storage = unsafe { zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = [0u64; 16];
        // SAFETY: as above.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut addr as *mut libc::sockaddr_storage).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: every pointer in `msg` points to live buffers of the stated sizes.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let (mut stamp, mut dropped) = (None, None);
        // SAFETY: the CMSG_* macros walk the control buffer the kernel filled in, within
        // `msg_controllen`; the data is read unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    stamp = (ts.tv_sec as i64)
                        .checked_mul(1_000_000_000)
                        .and_then(|s| s.checked_add(ts.tv_nsec as i64));
                } else if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SO_RXQ_OVFL {
                    dropped = Some(std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<u32>()));
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let from = sockaddr_to_std(&addr)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "datagram from a non-IP address"))?;
        Ok((n as usize, from, stamp, dropped))
    }

    fn sockaddr_to_std(a: &libc::sockaddr_storage) -> Option<SocketAddr> {
        match a.ss_family as libc::c_int {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let s: libc::sockaddr_in = unsafe { std::ptr::read((a as *const libc::sockaddr_storage).cast()) };
                let ip = Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr));
                Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(s.sin_port))))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let s: libc::sockaddr_in6 = unsafe { std::ptr::read((a as *const libc::sockaddr_storage).cast()) };
                let ip = Ipv6Addr::from(s.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(s.sin6_port),
                    s.sin6_flowinfo,
                    s.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_datagram_gets_a_timestamp_and_its_source() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let kernel = enable_kernel_timestamps(&rx);
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let before = realtime_ns();
        tx.send_to(b"hello", rx.local_addr().unwrap()).unwrap();
        let mut buf = [0u8; 8];
        let r = recv_stamped(&rx, &mut buf, kernel).unwrap();
        assert_eq!(&buf[..r.len], b"hello");
        assert_eq!(r.from, tx.local_addr().unwrap());
        assert!(r.at >= before, "{} < {before}", r.at);
        assert_eq!(r.stamp == Stamp::Kernel, kernel && cfg!(target_os = "linux"));
        assert_eq!(r.kernel_dropped, None);
    }
}

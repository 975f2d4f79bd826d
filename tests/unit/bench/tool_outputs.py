"""What hey and wrk print, as the tier-cost tests read it.

These are real output of Debian bookworm's hey 0.1.4 and wrk 4.1.0, captured
on the benchmark machine against the test app on loopback (its routes `/`,
`/status/503` and `/1500`; "killed" runs had the app stopped halfway). Tabs are
written as \\t, and hey's line of two spaces after Requests/sec as \\x20\\x20.
"""

from __future__ import annotations

HEY_OK = """\

Summary:
  Total:\t2.0053 secs
  Slowest:\t0.0024 secs
  Fastest:\t0.0002 secs
  Average:\t0.0009 secs
  Requests/sec:\t99.7364
\x20\x20
  Total data:\t10800 bytes
  Size/request:\t54 bytes

Response time histogram:
  0.000 [1]\t|■
  0.000 [1]\t|■
  0.001 [22]\t|■■■■■■■■■■■■
  0.001 [73]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.001 [63]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.001 [28]\t|■■■■■■■■■■■■■■■
  0.001 [3]\t|■■
  0.002 [4]\t|■■
  0.002 [3]\t|■■
  0.002 [1]\t|■
  0.002 [1]\t|■


Latency distribution:
  10% in 0.0006 secs
  25% in 0.0007 secs
  50% in 0.0009 secs
  75% in 0.0010 secs
  90% in 0.0012 secs
  95% in 0.0013 secs
  99% in 0.0020 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0000 secs, 0.0002 secs, 0.0024 secs
  DNS-lookup:\t0.0000 secs, 0.0000 secs, 0.0000 secs
  req write:\t0.0000 secs, 0.0000 secs, 0.0016 secs
  resp wait:\t0.0008 secs, 0.0001 secs, 0.0017 secs
  resp read:\t0.0000 secs, 0.0000 secs, 0.0002 secs

Status code distribution:
  [200]\t200 responses



"""

HEY_KILLED = """\

Summary:
  Total:\t3.0154 secs
  Slowest:\t0.0397 secs
  Fastest:\t0.0002 secs
  Average:\t0.0029 secs
  Requests/sec:\t193.0090
\x20\x20
  Total data:\t16362 bytes
  Size/request:\t54 bytes

Response time histogram:
  0.000 [1]\t|
  0.004 [269]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.008 [13]\t|■■
  0.012 [10]\t|■
  0.016 [3]\t|
  0.020 [1]\t|
  0.024 [0]\t|
  0.028 [0]\t|
  0.032 [1]\t|
  0.036 [4]\t|■
  0.040 [1]\t|


Latency distribution:
  10% in 0.0006 secs
  25% in 0.0010 secs
  50% in 0.0017 secs
  75% in 0.0025 secs
  90% in 0.0051 secs
  95% in 0.0093 secs
  99% in 0.0350 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0000 secs, 0.0002 secs, 0.0397 secs
  DNS-lookup:\t0.0000 secs, 0.0000 secs, 0.0000 secs
  req write:\t0.0000 secs, 0.0000 secs, 0.0012 secs
  resp wait:\t0.0027 secs, 0.0001 secs, 0.0396 secs
  resp read:\t0.0001 secs, 0.0000 secs, 0.0017 secs

Status code distribution:
  [200]\t303 responses

Error distribution:
  [279]\tGet "http://127.0.0.1:18199/": dial tcp 127.0.0.1:18199: connect: connection refused

"""

HEY_REFUSED = """\

Summary:
  Total:\t0.0023 secs
  Slowest:\t0.0000 secs
  Fastest:\t0.0000 secs
  Average:\t NaN secs
  Requests/sec:\t8791.0426
\x20\x20

Response time histogram:


Latency distribution:

Details (average, fastest, slowest):
  DNS+dialup:\t NaN secs, 0.0000 secs, 0.0000 secs
  DNS-lookup:\t NaN secs, 0.0000 secs, 0.0000 secs
  req write:\t NaN secs, 0.0000 secs, 0.0000 secs
  resp wait:\t NaN secs, 0.0000 secs, 0.0000 secs
  resp read:\t NaN secs, 0.0000 secs, 0.0000 secs

Status code distribution:

Error distribution:
  [20]\tGet "http://127.0.0.1:18198/": dial tcp 127.0.0.1:18198: connect: connection refused

"""

HEY_503 = """\

Summary:
  Total:\t0.0053 secs
  Slowest:\t0.0033 secs
  Fastest:\t0.0001 secs
  Average:\t0.0005 secs
  Requests/sec:\t3757.2169
\x20\x20
  Total data:\t460 bytes
  Size/request:\t23 bytes

Response time histogram:
  0.000 [1]\t|■■■
  0.000 [13]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.001 [3]\t|■■■■■■■■■
  0.001 [1]\t|■■■
  0.001 [0]\t|
  0.002 [0]\t|
  0.002 [0]\t|
  0.002 [1]\t|■■■
  0.003 [0]\t|
  0.003 [0]\t|
  0.003 [1]\t|■■■


Latency distribution:
  10% in 0.0001 secs
  25% in 0.0001 secs
  50% in 0.0001 secs
  75% in 0.0005 secs
  90% in 0.0022 secs
  95% in 0.0033 secs
  0% in 0.0000 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0001 secs, 0.0001 secs, 0.0033 secs
  DNS-lookup:\t0.0000 secs, 0.0000 secs, 0.0000 secs
  req write:\t0.0000 secs, 0.0000 secs, 0.0001 secs
  resp wait:\t0.0003 secs, 0.0001 secs, 0.0012 secs
  resp read:\t0.0000 secs, 0.0000 secs, 0.0007 secs

Status code distribution:
  [503]\t20 responses



"""

WRK_OK = """\
Running 2s test @ http://127.0.0.1:18199/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    20.87ms   76.25ms 459.86ms   93.01%
    Req/Sec    12.92k     6.64k   26.65k    71.05%
  Latency Distribution
     50%  226.00us
     75%  448.00us
     90%    6.44ms
     99%  408.18ms
  49001 requests in 2.10s, 11.68MB read
Requests/sec:  23326.86
Transfer/sec:      5.56MB
"""

WRK_503 = """\
Running 1s test @ http://127.0.0.1:18199/status/503
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   362.59us    1.51ms  19.83ms   96.22%
    Req/Sec    21.00k     4.59k   26.71k    54.55%
  Latency Distribution
     50%   71.00us
     75%   86.00us
     90%  252.00us
     99%    9.13ms
  22941 requests in 1.10s, 5.16MB read
  Non-2xx or 3xx responses: 22941
Requests/sec:  20863.99
Transfer/sec:      4.70MB
"""

WRK_TIMEOUT = """\
Running 3s test @ http://127.0.0.1:18199/1500
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     3.67      5.51    10.00     66.67%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  4 requests in 3.01s, 0.98KB read
  Socket errors: connect 0, read 0, write 0, timeout 4
Requests/sec:      1.33
Transfer/sec:     332.04B
"""

WRK_KILLED = """\
Running 3s test @ http://127.0.0.1:18199/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.35ms    4.50ms  66.69ms   95.88%
    Req/Sec     6.49k     3.15k   18.33k    78.12%
  Latency Distribution
     50%  367.00us
     75%  719.00us
     90%    1.65ms
     99%   27.11ms
  20718 requests in 3.04s, 4.94MB read
  Socket errors: connect 0, read 0, write 41716, timeout 0
Requests/sec:   6814.23
Transfer/sec:      1.62MB
"""

LDD_WRK = """\
\tlinux-vdso.so.1 (0x00007fc3bb221000)
\tlibluajit-5.1.so.2 => /lib/x86_64-linux-gnu/libluajit-5.1.so.2 (0x00007fc3bb16f000)
\tlibpthread.so.0 => /lib/x86_64-linux-gnu/libpthread.so.0 (0x00007fc3bb16a000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007fc3bb08a000)
\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007fc3bafe1000)
\tlibcrypto.so.3 => /lib/x86_64-linux-gnu/libcrypto.so.3 (0x00007fc3baa00000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fc3ba81e000)
\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007fc3bafbf000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007fc3bb223000)
"""

LDD_HEY = """\
\tlinux-vdso.so.1 (0x00007f1f95dfb000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1f95c08000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f1f95dfd000)
"""

WRK_REFUSED = "unable to connect to 127.0.0.1:18198 Connection refused\n"

# SPDX-License-Identifier: GPL-2.0
# Negative control: provoke a kernel WARNING and report success anyway.  The
# host's verdict must fail this test (tests/matrix.ini: expect = FAIL).
modprobe dis_harness_warn 2>/dev/null
echo "loaded the WARN module; saying ok"

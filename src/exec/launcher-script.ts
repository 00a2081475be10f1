// The program of the launcher (launcher.ts): Perl, which every Linux that
// runs a cluster has, and which forks in a fraction of the time Node takes
// to fork its whole heap. It only does what Node's spawn does for a run:
// a process group of its own, the run's cgroup, the folder, the
// environment, the two output pipes, then exec; and it reports each start
// and each end. Builtins only: loading POSIX and Fcntl made each of its
// forks a third dearer. The numbers in it are Linux's on every
// architecture: WNOHANG 1, EINTR 4, F_SETFD 2, FD_CLOEXEC 1.
//
// The helper runs in a session of its own, with no terminal, and so do the
// processes it starts: Node would make each a session of its own, which
// with no terminal to hold differs in nothing a run can tell.
//
// Its file descriptors 3 and up are pipes that Node made when it started
// it, two for each model it will start: fd 3+2i and 4+2i are model i's
// stdout and stderr. Requests come on stdin as `<length>\n<fields>`, fields
// separated by NUL (which no argument or environment value can hold):
//   id, folder, cgroup folder or "", pipe index, argument count, the
//   arguments (the first is the program), then the environment as NAME=value.
// Replies go to stdout, a line each:
//   P <id> <pid>     from the child, before it execs: the pid of what may run
//   S <id> <pid> <1 if born in the cgroup, else 0>   the program runs
//   F <id> <errno>                                   it could not start
//   E <id> <wait status>                             it ended
// With stdin closed it ends once every model it started has ended.
export const LAUNCHER_SCRIPT = String.raw`
use strict;
my $pairs = $ARGV[0];
my %pool;
for my $fd (3 .. 2 + 2 * $pairs) {
  open(my $fh, '+<&=', $fd) or die "fd $fd: $!";
  fcntl($fh, 2, 1);
  $pool{$fd} = $fh;
}
# SIGCHLD wakes the main loop through a pipe, a byte at most between two
# reads of it, so that the handler never blocks on a full pipe.
pipe(my $wakeR, my $wakeW) or die "pipe: $!";
my $woken = 0;
$SIG{CHLD} = sub { syswrite($wakeW, 'x') unless $woken++; };
# The models it starts are its children, and a model's kill of $PPID must not
# take the others' helper with it. Once modelrun is gone, its stdin ends.
my @quiet = qw(HUP INT QUIT TERM USR1 USR2 ALRM);
$SIG{$_} = 'IGNORE' for @quiet;
$SIG{PIPE} = 'DEFAULT';
my %running;
my $buffer = '';
my $open = 1;
$| = 1;

sub reply { my $line = shift; syswrite(STDOUT, "$line\n") or exit 1; }

# A process reaped before the end of its exec was read: its status waits here.
my %early;
# Starts whose exec has not been heard of yet, by the status pipe's fd.
my %starting;

sub reap {
  while ((my $pid = waitpid(-1, 1)) > 0) {
    my $id = delete $running{$pid};
    if (defined $id) { reply("E $id $?"); } else { $early{$pid} = $?; }
  }
}

sub start {
  my @fields = split /\0/, shift, -1;
  my ($id, $dir, $cgroup, $pair, $count) = splice(@fields, 0, 5);
  my @argv = splice(@fields, 0, $count);
  my ($out, $err) = (3 + 2 * $pair, 4 + 2 * $pair);
  pipe(my $statusR, my $statusW) or return reply("F $id " . ($! + 0));
  my $pid = fork();
  if (!defined $pid) { reply("F $id " . ($! + 0)); }
  elsif ($pid == 0) {
    close $statusR;
    $SIG{$_} = 'DEFAULT' for ('CHLD', 'PIPE', @quiet);
    my $fail = sub { syswrite($statusW, 'E' . ($! + 0) . "\n"); exit 127; };
    setpgrp(0, 0) or $fail->();
    if ($cgroup ne '') {
      my $ok = open(my $procs, '>', "$cgroup/cgroup.procs");
      $ok = (print $procs "$$\n") && close($procs) if $ok;
      syswrite($statusW, "C\n") unless $ok;
    }
    # Told before the model runs a line, so that modelrun knows its pid even
    # if the model kills this helper before the exec is heard of. The helper's
    # stdout stays open to modelrun until every child has said this or died.
    syswrite(STDOUT, "P $id $$\n") or $fail->();
    chdir($dir) or $fail->();
    # Reopened, the standard handles keep their numbers 0, 1 and 2, without close-on-exec.
    open(STDIN, '<', '/dev/null') or $fail->();
    open(STDOUT, '>&', $pool{$out}) or $fail->();
    open(STDERR, '>&', $pool{$err}) or $fail->();
    %ENV = map { split /=/, $_, 2 } @fields;
    exec { $argv[0] } @argv;
    $fail->();
  } else {
    close $statusW;
    close(delete $pool{$_}) for ($out, $err);
    # Heard of in the main loop: the next start need not wait for this exec.
    $starting{fileno($statusR)} = [$id, $pid, $statusR, ''];
  }
}

# The status pipe of a start has said all it will: exec closed it, or the child failed.
sub started {
  my ($id, $pid, $fh, $said) = @{ delete $starting{shift()} };
  close $fh;
  if ($said =~ /E(\d+)/) {
    waitpid($pid, 0) unless exists $early{$pid};
    delete $early{$pid};
    return reply("F $id $1");
  }
  reply("S $id $pid " . ($said =~ /C/ ? 0 : 1));
  if (exists $early{$pid}) { reply("E $id " . delete $early{$pid}); }
  else { $running{$pid} = $id; }
}

while ($open || %running || %starting) {
  my $rin = '';
  vec($rin, fileno($wakeR), 1) = 1;
  vec($rin, fileno(STDIN), 1) = 1 if $open;
  vec($rin, $_, 1) = 1 for keys %starting;
  my $n = select(my $rout = $rin, undef, undef, undef);
  if ($n > 0 && vec($rout, fileno($wakeR), 1)) {
    sysread($wakeR, my $drop, 4096);
    $woken = 0;
  }
  reap();
  next if $n <= 0;
  for my $fd (keys %starting) {
    next unless vec($rout, $fd, 1);
    my $got = sysread($starting{$fd}[2], my $chunk, 256);
    next if !defined $got && $! == 4;
    if ($got) { $starting{$fd}[3] .= $chunk; } else { started($fd); }
  }
  if ($open && vec($rout, fileno(STDIN), 1)) {
    my $got = sysread(STDIN, $buffer, 65536, length $buffer);
    next if !defined $got && $! == 4;
    if (!$got) { $open = 0; close(delete $pool{$_}) for keys %pool; }
    while ($buffer =~ /^(\d+)\n/ && length($buffer) >= length($1) + 1 + $1) {
      my $length = $1;
      my $request = substr($buffer, length($length) + 1, $length);
      substr($buffer, 0, length($length) + 1 + $length) = '';
      start($request);
    }
  }
}
`;

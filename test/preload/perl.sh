#!/bin/bash
# perl runs a generated hash/regex/string-heavy script: a fixed part (word
# counts in big hashes, nested hashes and arrays, regex captures, s///e, tr,
# split/join, sprintf, pack/unpack, sort, string growth, closures, recursion,
# deleting and re-creating) plus 1500 generated subs compiled at run time with
# string eval, all on a generated fixed-seed corpus.  Prints only sizes and
# MD5 checksums, which must match glibc's.
# Usage: test/preload/perl.sh /path/to/libmalloc.so
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
pl_init "$@"
pl_need perl # the full package: Digest::MD5 is in libperl

# The corpus: 30000 lines of fixed-seed words (Park-Miller, exact in awk).
awk -v x=31337 'function rnd(k) { x = (x * 16807) % 2147483647; return x % k }
BEGIN {
	for (l = 0; l < 30000; l++) {
		n = 3 + rnd(12); s = ""
		for (i = 0; i < n; i++) {
			m = 1 + rnd(8); w = ""
			for (j = 0; j < m; j++) w = w substr("etaoinshrdlucmfwypvbgkqjxz", 26 - int(rnd(676) ^ 0.5), 1)
			if (rnd(9) == 0) w = toupper(substr(w, 1, 1)) substr(w, 2)
			if (rnd(13) == 0) w = w rnd(1000)
			s = s (i ? (rnd(11) == 0 ? ", " : " ") : "") w
		}
		print s (rnd(4) == 0 ? "." : "")
	}
}' >"$TMP/corpus.txt"

# The generated part: 1500 subs, each a substitution, a match count and a hash
# update, with fixed-seed patterns; compiled by string eval in the script.
awk -v x=4711 -v n=1500 'function rnd(k) { x = (x * 16807) % 2147483647; return x % k }
function pat(   p, i, k) {
	p = ""; k = 1 + rnd(3)
	for (i = 0; i < k; i++) p = p substr("etaoinshrdlu", 1 + rnd(12), 1)
	return p (rnd(3) == 0 ? "[a-z]" : "") (rnd(4) == 0 ? "+" : "")
}
BEGIN {
	for (f = 0; f < n; f++) {
		printf "sub g%d { my ($s, $h) = @_; my $c = () = $s =~ /%s/g; ", f, pat()
		printf "$s =~ s/(%s)/%s/g; ", pat(), (rnd(2) ? "<$1>" : "\\U$1")
		printf "$h->{\"%s\" . ($c %% %d)} .= substr($s, 0, %d); return $c + length $s }\n", pat(), 2 + rnd(20), rnd(12)
	}
	printf "our @GEN = ("
	for (f = 0; f < n; f++) printf "%s\\&g%d", (f ? ", " : ""), f
	print ");\n1;"
}' >"$TMP/generated.pl"

cat >"$TMP/work.pl" <<'EOF'
use strict;
use warnings;

my $corpus = shift @ARGV;
my $generated = shift @ARGV;
use Digest::MD5 qw(md5_hex);
sub ck { substr(md5_hex($_[0]), 0, 16) }
sub say_ { print join(" ", @_), "\n" }

open(my $fh, "<", $corpus) or die "$corpus: $!";
my @lines = <$fh>;
close $fh;
chomp @lines;
my $text = join("\n", @lines);
say_ "corpus", scalar(@lines), length($text), ck($text);

# word counts, bigrams, per-letter index: big hashes of strings and arrays
my (%count, %bigram, %by_first, %pos);
my $wn = 0;
for my $i (0 .. $#lines) {
	my @w = split /[\s,.]+/, lc $lines[$i];
	for my $j (0 .. $#w) {
		next if $w[$j] eq '';
		$count{$w[$j]}++;
		$bigram{"$w[$j-1] $w[$j]"}++ if $j;
		push @{$by_first{substr($w[$j], 0, 1)}}, $w[$j];
		$pos{$w[$j]}{$i % 97} = $j;
		$wn++;
	}
}
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 29];
say_ "words", $wn, scalar(keys %count), scalar(keys %bigram), ck(join ",", map { "$_=$count{$_}" } @top);
say_ "first", map { "$_:" . scalar(@{$by_first{$_}}) } sort keys %by_first;
my $possum = 0;
for my $w (sort keys %pos) { $possum += $_ for values %{$pos{$w}} }
say_ "pos", scalar(keys %pos), $possum;

# regexes: captures, named captures, lookahead, /e, tr, case-insensitive
my ($caps, $named, $look) = (0, 0, 0);
my %numbers;
for (@lines) {
	while (/\b([a-z]{2})([a-z]*)(\d+)\b/g) { $caps += length($1) + length($2) + $3 }
	$named++ while /(?<vowel>[aeiou]{2,})(?<rest>[^aeiou\s]+)/g;
	$look++ while /\b\w+(?=,)/g;
	$numbers{$1} .= "." while /(\d+)/g;
}
say_ "regex", $caps, $named, $look, scalar(keys %numbers), ck(join "", map { "$_$numbers{$_}" } sort keys %numbers);
(my $t = $text) =~ s/\b(\w)(\w*)\b/\u$1\L$2/g;
my $t2 = $text;
my $subs = ($t2 =~ s/(\d+)/sprintf("<%05d>", $1 * 7)/ge);
(my $t3 = $text) =~ tr/a-z/n-za-m/;
my $vow = ($text =~ tr/aeiouAEIOU//);
my @sentences = split /(?<=\.)\s*\n/, $text;
my $icase = () = $text =~ /the|and|tion/gi;
say_ "subst", ck($t), length($t2), $subs, ck($t2), ck($t3), $vow, scalar(@sentences), $icase;

# string building, sprintf, pack/unpack, reverse, substr as lvalue
my $buf = "";
for my $i (1 .. 150000) {
	$buf .= sprintf("%x:%s;", $i, "z" x ($i % 13));
	substr($buf, 0, int(length($buf) / 2), "") if length($buf) > 200000;
}
my $packed = pack("N*", map { $_ * 2654435761 % 4294967296 } 1 .. 100000);
my @unpacked = unpack("n*", $packed);
my $rev = reverse $text;
my $rep = join "|", map { ("ab" x ($_ % 17)) . $_ } 1 .. 40000;
my $lvs = $text;
for (my $i = 0; $i < length($lvs) - 10; $i += 1001) { substr($lvs, $i, 3) = uc substr($lvs, $i, 3) . "!" }
say_ "strings", length($buf), ck($buf), length($packed), scalar(@unpacked), ck($rev), length($rep), ck($rep), length($lvs), ck($lvs);

# nested structures, closures, recursion; delete and re-create
sub tree { my ($d, $k) = @_; return { k => $k, s => "n$k" x 3 } if $d == 0;
	return { k => $k, l => tree($d - 1, $k * 2), r => tree($d - 1, $k * 2 + 1), tag => [ ($k) x ($d % 4) ] } }
sub walk { my $n = shift; return $n->{k} + length($n->{s} // "") unless $n->{l};
	return $n->{k} + @{$n->{tag}} + walk($n->{l}) + walk($n->{r}) }
my @sums;
for my $round (1 .. 4) {
	my $tr = tree(15, $round);
	my %h;
	my @closures = map { my $n = $_; sub { $h{$n % 1000} .= $n x ($_[0] % 3 + 1); $n } } 1 .. 20000;
	my $acc = 0;
	$acc += $_->($acc) for @closures;
	delete $h{$_} for grep { $_ % 3 == $round % 3 } keys %h;
	push @sums, walk($tr) . "/" . $acc . "/" . scalar(keys %h) . "/" . ck(join "", map { $h{$_} } sort keys %h);
}
say_ "nested", @sums;

# sort: numeric, string, multi-key, Schwartzian transform
my @nums = map { ($_ * 7919 + 13) % 100003 } 1 .. 200000;
my @sn = sort { $a <=> $b } @nums;
my @ss = sort keys %count;
my @st = map { $_->[1] } sort { $a->[0] <=> $b->[0] or $a->[1] cmp $b->[1] } map { [length, $_] } keys %count;
say_ "sort", $sn[0], $sn[-1], $sn[100000], ck(join ",", @sn[0 .. 999]), ck(join ",", @ss), ck(join ",", @st);

# the generated subs: compiled now (string eval), applied to every line
our @GEN;
do $generated or die "generated.pl: " . ($@ || $!);
my %gh;
my $gsum = 0;
for my $i (0 .. $#lines) {
	my $g = $GEN[$i % @GEN];
	$gsum += $g->($lines[$i], \%gh);
	$gsum += $GEN[($i * 7) % @GEN]->($lines[-1 - $i], \%gh);
}
say_ "generated", scalar(@GEN), $gsum, scalar(keys %gh), ck(join "", map { "$_$gh{$_}" } sort keys %gh);
my $code = join "", map { "sub e$_ { my \$x = shift; \$x =~ tr/a-m/A-M/; return \$x . '$_' x ($_ % 5) }\n" } 1 .. 1500;
eval $code . "1;" or die $@;
no strict 'refs';
my $ev = join "", map { &{"e$_"}($lines[$_]) } 1 .. 1500;
say_ "eval", length($ev), ck($ev);
print "done\n";
EOF

workload() {
	PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 perl "$TMP/work.pl" "$TMP/corpus.txt" "$TMP/generated.pl"
}

pl_compare workload

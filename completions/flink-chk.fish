# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_flink_chk_global_optspecs
    string join \n color= p/profile= config= concurrency= h/help V/version
end

function __fish_flink_chk_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_flink_chk_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_flink_chk_using_subcommand
    set -l cmd (__fish_flink_chk_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c flink-chk -n "__fish_flink_chk_needs_command" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_needs_command" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_needs_command" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_needs_command" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "inspect" -d 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "ls" -d 'List jobs under a checkpoints root (job id, alias, checkpoints, latest completed, in progress, bytes, age), or one job\'s checkpoints and savepoints (id, time, kind, size, whether the _metadata is readable, and with --verify whether every file each one needs is there)'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "deps" -d 'What a snapshot depends on: its own files, the job\'s shared/ and taskowned/ files, other jobs\' files (restore lineage), file-merging and changelog files, inline state'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "diff" -d 'Compare two snapshots and give the restore verdict: will Flink restore OLD into the job that NEW (a snapshot of it) or --job FILE describes?'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "why" -d 'Which snapshots reference a file, or anything under a directory'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "safe-to-delete" -d 'Clean up checkpoint storage: plan what no kept snapshot needs, show it, ask, re-check, delete'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "copy" -d 'Copy snapshots with everything they need to another root, cluster or bucket, rewriting the paths in `_metadata`'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "relocate" -d 'Write a snapshot\'s rewritten `_metadata` for data another tool already moved (distcp, rclone, `cp -r`, bucket replication)'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "replicate" -d 'Keep a restorable standby copy of every job\'s newest snapshots at another root, cluster or bucket'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "refs" -d 'Reference sets of kept snapshots, for engines that run the cleanup\'s anti-join at scale'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "profile" -d 'Manage profiles: named environments with checkpoint and savepoint roots, storage settings, job aliases and retention'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "uid" -d 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "generate" -d 'Generate completion scripts and man pages into a directory'
complete -c flink-chk -n "__fish_flink_chk_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l uids -d 'A file of uids (one per line) to name operators whose metadata carries no uid (files written before Flink 2.0)' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l rebase -d 'Rewrite absolute paths starting with FROM to start with TO (for snapshots moved since they were written). Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l states -d 'Also list each operator\'s state names and kinds (reads the headers of state files; operator-state names come from `_metadata` itself)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l files -d 'Also list every referenced file (resolved location, size recorded in the handle, handle kind, operator and subtask)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -l json -d 'Print JSON (the full parsed model plus derived fields) instead of tables'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l rebase -d 'With --verify: read files recorded under FROM at TO instead (for trees moved after Flink wrote them)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l inventory -d 'Sizes and snapshots of a root as a storage inventory report lists them (as `safe-to-delete --inventory` reads one), instead of listing every file: as of the report\'s time' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l inventory-time -d 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l verify -d 'Check, for each of the job\'s snapshots with a readable _metadata, that every file it needs exists with the size its handle records, as `deps --verify` does (each distinct file is asked about once; --concurrency requests in flight)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand ls" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -l rebase -d 'Read files recorded under FROM at TO instead (for snapshots moved after Flink wrote them)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -l files -d 'List every file'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -l verify -d 'Check that every file exists with the size its handle records'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand deps" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l job -d 'Describe the new job in a YAML/JSON file instead of a snapshot of it' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l backend -d 'The new job\'s state backend (when NEW does not tell, e.g. a canonical savepoint)' -r -f -a "hashmap\t'`hashmap` (heap)'
rocksdb\t'`rocksdb`'
forst\t'`forst` (Flink 2.x)'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l uids -d 'A file of uids (one per line) naming operators of either side whose metadata carries no uid (files written before Flink 2.0)' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l rebase -d 'Read files recorded under FROM at TO instead (for snapshots moved since Flink wrote them). Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l files -d 'Also compare the files both snapshots reference: added (uploaded by NEW), dropped, reused (for two checkpoints of one incremental job)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -s n -l allow-non-restored-state -d 'The restore will pass --allowNonRestoredState: removed operators\' state is dropped (a warning, not a refusal)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l strict -d 'Exit 1 when the verdict is compatible but there are warnings (state the new job would ignore or lose)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l no-states -d 'Do not read state-file headers (no keyed state names; faster on remote storage)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand diff" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l in -d 'Where to look for snapshots (a root, job directory or reference); repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l rebase -d 'Read files recorded under FROM at TO (for snapshots moved after Flink wrote them)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l inventory -d 'Find the snapshots without listing every file: the job and checkpoint directories are listed live, and the `_metadata` files an inventory report (as for safe-to-delete --inventory) shows elsewhere (copies outside Flink\'s layout) are read if still there' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l inventory-time -d 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l max-inventory-age -d 'Refuse an --inventory older than this' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand why" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l keep-last -d 'Completed checkpoints kept per job, at least 1 [default: the profile\'s retention.keep_last, else 3]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l keep -d 'A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile\'s retention.keep' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l min-age -d 'Files younger than this are kept: a whole number with s, m, h or d, as in the profile [default: the profile\'s retention.min_age, else 1h]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l include-savepoint -d 'A savepoint (directory name) that may be deleted. Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l drop-job -d 'A job (alias or id) that is gone for good: its snapshots are no longer kept, only what other jobs\' kept snapshots reference survives. Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l rebase -d 'Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l inventory -d 'Plan from a storage inventory report instead of listing every file: an S3 Inventory manifest.json (also OSS, OBS, S3-compatible stores; CSV or Parquet), a GCS inventory report manifest, an Azure blob inventory <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet file with the columns path,size,last_modified. A path or URI. Only job and checkpoint directories are listed live, and every kept _metadata is read live; ages count from the inventory\'s time' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l apply-candidates -d 'Re-check and delete the rows another engine selected (the output of the SQL `refs export --emit-sql` prints: a CSV with the header path,size,last_modified). A path or URI. The rows are planned again as an --inventory would be (references read live, layout, ages, and every candidate checked live before it is deleted): the engine only narrows, it never decides' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l inventory-time -d 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files [default: the file\'s modification time]. Manifests (S3, GCS, Azure) give their own' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l max-inventory-age -d 'Refuse an --inventory older than this (a warning above 48h), also when --apply reads a plan made from one: a whole number with s, m, h or d' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l plan-out -d 'Write the plan as JSON to FILE as well' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l apply -d 'Apply a plan written earlier by --plan-out instead of planning now (re-checked against storage first: sizes, times, new snapshots)' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l log -d 'Append the deletion log (one JSON line per deleted file) to FILE [default: $XDG_STATE_HOME/flink-chk/deletions.log]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l emit-manifest -d 'Delete nothing: re-check as a deletion would, then write the files that pass (whole checkpoint directories listed file by file) to FILE for the store\'s batch service. s3-batch-tags: an S3 Batch Operations CSV manifest (bucket,key; keys URL-encoded) for a job that tags them, with FILE.operation.json (the tagging) and FILE.lifecycle.json (a rule expiring the tag) beside it; for s3:// and oss:// roots. gcs-batch: a Cloud Storage batch operations manifest (bucket,name,generation) for a delete job; for gs:// roots. Needs a reviewed plan: --apply PLAN, --apply-candidates FILE or --yes. The batch service acts later, on a re-check that has aged (see the README)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l stopped -d 'State that no job under the root is running: unreferenced taskowned/ files become candidates and ForSt working directories are allowed'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l dry-run -d 'Print the plan and stop: nothing is deleted, nothing asked'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -s y -l yes -d 'Delete without asking (what the plan lists, after the re-check). For scripts'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l all -d 'List every candidate, not only the first 30'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -l json -d 'Print the plan as JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand safe-to-delete" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l to -d 'Destination root: a path or URI, or PROFILE: (that profile\'s checkpoints root, its savepoints root for savepoints, and its storage settings and credentials) or PROFILE:PATH (a path under that root, or a URI, with that profile\'s storage settings)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l map -d 'Where files under FROM go (for files outside the snapshot\'s root)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l rebase -d 'Read files recorded under FROM at TO instead (a snapshot moved after Flink wrote it)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l layout -d 'mirror: the source tree under DEST. self-contained: every file in the snapshot\'s own directory with relative handles, movable again with a plain directory copy (restore it with claim mode NO_CLAIM)' -r -f -a "mirror\t'The source tree under DEST'
self-contained\t'Everything in the snapshot\'s directory, relative handles'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l bwlimit -d 'One byte budget for the whole run: bytes/s with K, M, G (powers of 1024), or a timetable "08:00,10M 20:00,off"' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l verify -d 'standard: size, and the MD5 the destination reports where it has one. full: also read every copied file back and compare its CRC32C' -r -f -a "standard\t'Size and the store\'s MD5 where reported'
full\t'Also a full read-back'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l plan-out -d 'Write the data files as a `source,target` CSV (for distcp, s5cmd, rclone, azcopy); then publish with `flink-chk relocate`' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l journal -d 'The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l dry-run -d 'Show the plan (files, bytes, destinations, time at --bwlimit); copy nothing'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand copy" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -l map -d 'Where files recorded under FROM are now (the longest FROM wins)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -l rebase -d 'Read files recorded under FROM at TO instead, for reading the source' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -l dry-run -d 'Check and show; write nothing'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand relocate" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l to -d 'The replica: a path or URI, PROFILE: (that profile\'s roots and storage settings) or PROFILE:PATH [default: the profile\'s replication.to]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l keep -d 'Replicated checkpoints kept per job; older ones are pruned from the replica [default: the profile\'s replication.keep; without either, nothing is pruned]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l interval -d 'Time between rounds with --watch: a number with s, m, h or d' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l prune-interval -d 'With --watch and --keep: prune at most this often (pruning lists the whole replica)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l promote -d 'Verify the newest complete replica of JOB (alias or id) and print how to restore it' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l priority -d 'A job\'s priority, 0 to 9 (higher first) [default: the profile\'s replication.priorities / priority, else 0]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l bwlimit -d 'One byte budget for all jobs: bytes/s with K, M, G (powers of 1024), or a timetable "08:00,10M 20:00,off" [default: the profile\'s replication.bwlimit]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l job-bwlimit -d 'Each job\'s own cap besides the shared budget [default: the profile\'s replication.job_bwlimit]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l control -d 'A file holding a --bwlimit value, re-read whenever it changes' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l map -d 'Where files under FROM go (files outside a snapshot\'s root)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l rebase -d 'Read files recorded under FROM at TO instead' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l verify -d 'standard: size and the MD5 the replica\'s store reports. full: also read every copied file back' -r -f -a "standard\t'Size and the store\'s MD5 where reported'
full\t'Also a full read-back'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l journal -d 'The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l yes -d 'Prune without asking (needed to prune when not on a terminal)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l watch -d 'Repeat every --interval until SIGINT/SIGTERM'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l status -d 'Show, per job, the newest source snapshot, the newest published replica, the lag (time and bytes) and what is in flight; copy nothing'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l dry-run -d 'Show what a round would copy; copy nothing'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -l json -d 'Print JSON (with --watch: one line per round)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand replicate" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -f -a "export" -d 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and not __fish_seen_subcommand_from export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l out -d 'The export file (written beside as FILE.partial, renamed when complete)' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l format -d 'File format [default: from the extension of --out, .csv or .parquet; else parquet]' -r -f -a "parquet\t'Apache Parquet (ZSTD)'
csv\t'CSV with the header kind,path,snapshot'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l keep-last -d 'Completed checkpoints kept per job, at least 1 [default: the profile\'s retention.keep_last, else 3]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l keep -d 'A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile\'s retention.keep' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l min-age -d 'Files younger than this are kept: a whole number with s, m, h or d, as in the profile [default: the profile\'s retention.min_age, else 1h]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l include-savepoint -d 'A savepoint (directory name) that may be deleted. Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l drop-job -d 'A job (alias or id) that is gone for good: its snapshots are no longer kept, only what other jobs\' kept snapshots reference survives. Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l rebase -d 'Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l inventory -d 'The storage inventory report the SQL reads (an S3 Inventory manifest.json, a GCS inventory report manifest, an Azure <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet path,size,last_modified; Parquet reports for spark only); its time is "now" for ages' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l inventory-time -d 'When the --inventory listing was taken (RFC 3339), for oiv and CSV files [default: the file\'s modification time]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l max-inventory-age -d 'Refuse an --inventory older than this: a whole number with s, m, h or d' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l emit-sql -d 'Print the anti-join for this engine: flink (batch SQL), spark, trino. Needs --inventory' -r -f -a "flink\t'Apache Flink batch SQL (SQL client, TableEnvironment)'
spark\t'Spark SQL'
trino\t'Trino (Hive catalog)'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l sql-out -d 'Write the SQL to FILE instead of stdout' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l sql-refs -d 'Where the engine reads the export [default: --out as a local file]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l sql-candidates -d 'The directory the engine writes the candidates CSV into [default: FILE.candidates beside --out]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l stopped -d 'State that no job under the root is running: unreferenced taskowned/ files become candidates and ForSt working directories are allowed'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -l json -d 'Print a JSON summary'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand refs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -f -a "list" -d 'List profiles'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -f -a "show" -d 'Show one profile (secrets masked)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -f -a "init" -d 'Create the profiles file with one profile (asks on a terminal for what is not given)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -f -a "add" -d 'Add a profile to the profiles file (keeps its comments)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -f -a "check" -d 'Validate the file and check that a profile\'s roots can be listed'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -f -a "path" -d 'Print the profiles file\'s path'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and not __fish_seen_subcommand_from list show init add check path help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from list" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from list" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from list" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from list" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from show" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from show" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from show" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from show" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from show" -l json -d 'Print JSON'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l name -d 'Profile name' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l checkpoints -d 'Checkpoint root (Flink\'s execution.checkpointing.dir / state.checkpoints.dir)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l savepoints -d 'Savepoint root (execution.checkpointing.savepoint-dir / state.savepoints.dir)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l changelog -d 'Changelog (DSTL) base path (state.changelog.dstl.dfs.base-path)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l description -d 'Description' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l s3-endpoint -d 'S3 endpoint for S3-compatible stores (Flink\'s s3.endpoint)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l s3-region -d 'S3 region' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l job -d 'A job alias (repeatable)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l s3-path-style -d 'Path-style S3 requests (s3.path.style.access)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -l force -d 'Overwrite an existing profiles file'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l checkpoints -d 'Checkpoint root (Flink\'s execution.checkpointing.dir / state.checkpoints.dir)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l savepoints -d 'Savepoint root (execution.checkpointing.savepoint-dir / state.savepoints.dir)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l changelog -d 'Changelog (DSTL) base path (state.changelog.dstl.dfs.base-path)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l description -d 'Description' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l s3-endpoint -d 'S3 endpoint for S3-compatible stores (Flink\'s s3.endpoint)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l s3-region -d 'S3 region' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l job -d 'A job alias (repeatable)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -l s3-path-style -d 'Path-style S3 requests (s3.path.style.access)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from check" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from check" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from check" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from check" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from path" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from path" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from path" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from path" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'List profiles'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one profile (secrets masked)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create the profiles file with one profile (asks on a terminal for what is not given)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a profile to the profiles file (keeps its comments)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate the file and check that a profile\'s roots can be listed'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the profiles file\'s path'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -l json -d 'Print JSON: `[{"uid": ..., "operator_id": ...}]`'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand uid" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand completions" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -l out-dir -d 'Output directory' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -l color -d 'When to use colour: auto (a terminal and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour on a terminal unless NO_COLOR is set'
always\t'Always colour'
never\t'Never colour'"
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -s p -l profile -d 'Profile to use (default: the `default:` of the profiles file)' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -l config -d 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]' -r -F
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -l concurrency -d 'Storage requests in flight at once [default: the profile\'s storage.concurrency, else 32]' -r
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand generate" -s V -l version -d 'Print version'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "inspect" -d 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "ls" -d 'List jobs under a checkpoints root (job id, alias, checkpoints, latest completed, in progress, bytes, age), or one job\'s checkpoints and savepoints (id, time, kind, size, whether the _metadata is readable, and with --verify whether every file each one needs is there)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "deps" -d 'What a snapshot depends on: its own files, the job\'s shared/ and taskowned/ files, other jobs\' files (restore lineage), file-merging and changelog files, inline state'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "diff" -d 'Compare two snapshots and give the restore verdict: will Flink restore OLD into the job that NEW (a snapshot of it) or --job FILE describes?'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "why" -d 'Which snapshots reference a file, or anything under a directory'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "safe-to-delete" -d 'Clean up checkpoint storage: plan what no kept snapshot needs, show it, ask, re-check, delete'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "copy" -d 'Copy snapshots with everything they need to another root, cluster or bucket, rewriting the paths in `_metadata`'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "relocate" -d 'Write a snapshot\'s rewritten `_metadata` for data another tool already moved (distcp, rclone, `cp -r`, bucket replication)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "replicate" -d 'Keep a restorable standby copy of every job\'s newest snapshots at another root, cluster or bucket'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "refs" -d 'Reference sets of kept snapshots, for engines that run the cleanup\'s anti-join at scale'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "profile" -d 'Manage profiles: named environments with checkpoint and savepoint roots, storage settings, job aliases and retention'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "uid" -d 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "generate" -d 'Generate completion scripts and man pages into a directory'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and not __fish_seen_subcommand_from inspect ls deps diff why safe-to-delete copy relocate replicate refs profile uid completions generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and __fish_seen_subcommand_from refs" -f -a "export" -d 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'List profiles'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show one profile (secrets masked)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "init" -d 'Create the profiles file with one profile (asks on a terminal for what is not given)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "add" -d 'Add a profile to the profiles file (keeps its comments)'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "check" -d 'Validate the file and check that a profile\'s roots can be listed'
complete -c flink-chk -n "__fish_flink_chk_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "path" -d 'Print the profiles file\'s path'

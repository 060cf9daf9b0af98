
use builtin;
use str;

set edit:completion:arg-completer[flink-chk] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'flink-chk'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'flink-chk'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand inspect 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
            cand ls 'List jobs under a checkpoints root (job id, alias, checkpoints, latest completed, in progress, bytes, age), or one job''s checkpoints and savepoints (id, time, kind, size, whether the _metadata is readable, and with --verify whether every file each one needs is there)'
            cand deps 'What a snapshot depends on: its own files, the job''s shared/ and taskowned/ files, other jobs'' files (restore lineage), file-merging and changelog files, inline state'
            cand diff 'Compare two snapshots and give the restore verdict: will Flink restore OLD into the job that NEW (a snapshot of it) or --job FILE describes?'
            cand why 'Which snapshots reference a file, or anything under a directory'
            cand safe-to-delete 'Clean up checkpoint storage: plan what no kept snapshot needs, show it, ask, re-check, delete'
            cand copy 'Copy snapshots with everything they need to another root, cluster or bucket, rewriting the paths in `_metadata`'
            cand relocate 'Write a snapshot''s rewritten `_metadata` for data another tool already moved (distcp, rclone, `cp -r`, bucket replication)'
            cand replicate 'Keep a restorable standby copy of every job''s newest snapshots at another root, cluster or bucket'
            cand refs 'Reference sets of kept snapshots, for engines that run the cleanup''s anti-join at scale'
            cand profile 'Manage profiles: named environments with checkpoint and savepoint roots, storage settings, job aliases and retention'
            cand uid 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
            cand completions 'Print a shell completion script to stdout'
            cand generate 'Generate completion scripts and man pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;inspect'= {
            cand --uids 'A file of uids (one per line) to name operators whose metadata carries no uid (files written before Flink 2.0)'
            cand --rebase 'Rewrite absolute paths starting with FROM to start with TO (for snapshots moved since they were written). Repeatable'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --states 'Also list each operator''s state names and kinds (reads the headers of state files; operator-state names come from `_metadata` itself)'
            cand --files 'Also list every referenced file (resolved location, size recorded in the handle, handle kind, operator and subtask)'
            cand --json 'Print JSON (the full parsed model plus derived fields) instead of tables'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;ls'= {
            cand --rebase 'With --verify: read files recorded under FROM at TO instead (for trees moved after Flink wrote them)'
            cand --inventory 'Sizes and snapshots of a root as a storage inventory report lists them (as `safe-to-delete --inventory` reads one), instead of listing every file: as of the report''s time'
            cand --inventory-time 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --verify 'Check, for each of the job''s snapshots with a readable _metadata, that every file it needs exists with the size its handle records, as `deps --verify` does (each distinct file is asked about once; --concurrency requests in flight)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;deps'= {
            cand --rebase 'Read files recorded under FROM at TO instead (for snapshots moved after Flink wrote them)'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --files 'List every file'
            cand --verify 'Check that every file exists with the size its handle records'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;diff'= {
            cand --job 'Describe the new job in a YAML/JSON file instead of a snapshot of it'
            cand --backend 'The new job''s state backend (when NEW does not tell, e.g. a canonical savepoint)'
            cand --uids 'A file of uids (one per line) naming operators of either side whose metadata carries no uid (files written before Flink 2.0)'
            cand --rebase 'Read files recorded under FROM at TO instead (for snapshots moved since Flink wrote them). Repeatable'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --files 'Also compare the files both snapshots reference: added (uploaded by NEW), dropped, reused (for two checkpoints of one incremental job)'
            cand -n 'The restore will pass --allowNonRestoredState: removed operators'' state is dropped (a warning, not a refusal)'
            cand --allow-non-restored-state 'The restore will pass --allowNonRestoredState: removed operators'' state is dropped (a warning, not a refusal)'
            cand --strict 'Exit 1 when the verdict is compatible but there are warnings (state the new job would ignore or lose)'
            cand --no-states 'Do not read state-file headers (no keyed state names; faster on remote storage)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;why'= {
            cand --in 'Where to look for snapshots (a root, job directory or reference); repeatable'
            cand --rebase 'Read files recorded under FROM at TO (for snapshots moved after Flink wrote them)'
            cand --inventory 'Find the snapshots without listing every file: the job and checkpoint directories are listed live, and the `_metadata` files an inventory report (as for safe-to-delete --inventory) shows elsewhere (copies outside Flink''s layout) are read if still there'
            cand --inventory-time 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files'
            cand --max-inventory-age 'Refuse an --inventory older than this'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;safe-to-delete'= {
            cand --keep-last 'Completed checkpoints kept per job, at least 1 [default: the profile''s retention.keep_last, else 3]'
            cand --keep 'A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile''s retention.keep'
            cand --min-age 'Files younger than this are kept: a whole number with s, m, h or d, as in the profile [default: the profile''s retention.min_age, else 1h]'
            cand --include-savepoint 'A savepoint (directory name) that may be deleted. Repeatable'
            cand --drop-job 'A job (alias or id) that is gone for good: its snapshots are no longer kept, only what other jobs'' kept snapshots reference survives. Repeatable'
            cand --rebase 'Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable'
            cand --inventory 'Plan from a storage inventory report instead of listing every file: an S3 Inventory manifest.json (also OSS, OBS, S3-compatible stores; CSV or Parquet), a GCS inventory report manifest, an Azure blob inventory <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet file with the columns path,size,last_modified. A path or URI. Only job and checkpoint directories are listed live, and every kept _metadata is read live; ages count from the inventory''s time'
            cand --apply-candidates 'Re-check and delete the rows another engine selected (the output of the SQL `refs export --emit-sql` prints: a CSV with the header path,size,last_modified). A path or URI. The rows are planned again as an --inventory would be (references read live, layout, ages, and every candidate checked live before it is deleted): the engine only narrows, it never decides'
            cand --inventory-time 'When the --inventory listing was taken (RFC 3339), for oiv, CSV and Parquet files [default: the file''s modification time]. Manifests (S3, GCS, Azure) give their own'
            cand --max-inventory-age 'Refuse an --inventory older than this (a warning above 48h), also when --apply reads a plan made from one: a whole number with s, m, h or d'
            cand --plan-out 'Write the plan as JSON to FILE as well'
            cand --apply 'Apply a plan written earlier by --plan-out instead of planning now (re-checked against storage first: sizes, times, new snapshots)'
            cand --log 'Append the deletion log (one JSON line per deleted file) to FILE [default: $XDG_STATE_HOME/flink-chk/deletions.log]'
            cand --emit-manifest 'Delete nothing: re-check as a deletion would, then write the files that pass (whole checkpoint directories listed file by file) to FILE for the store''s batch service. s3-batch-tags: an S3 Batch Operations CSV manifest (bucket,key; keys URL-encoded) for a job that tags them, with FILE.operation.json (the tagging) and FILE.lifecycle.json (a rule expiring the tag) beside it; for s3:// and oss:// roots. gcs-batch: a Cloud Storage batch operations manifest (bucket,name,generation) for a delete job; for gs:// roots. Needs a reviewed plan: --apply PLAN, --apply-candidates FILE or --yes. The batch service acts later, on a re-check that has aged (see the README)'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --stopped 'State that no job under the root is running: unreferenced taskowned/ files become candidates and ForSt working directories are allowed'
            cand --dry-run 'Print the plan and stop: nothing is deleted, nothing asked'
            cand -y 'Delete without asking (what the plan lists, after the re-check). For scripts'
            cand --yes 'Delete without asking (what the plan lists, after the re-check). For scripts'
            cand --all 'List every candidate, not only the first 30'
            cand --json 'Print the plan as JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;copy'= {
            cand --to 'Destination root: a path or URI, or PROFILE: (that profile''s checkpoints root, its savepoints root for savepoints, and its storage settings and credentials) or PROFILE:PATH (a path under that root, or a URI, with that profile''s storage settings)'
            cand --map 'Where files under FROM go (for files outside the snapshot''s root)'
            cand --rebase 'Read files recorded under FROM at TO instead (a snapshot moved after Flink wrote it)'
            cand --layout 'mirror: the source tree under DEST. self-contained: every file in the snapshot''s own directory with relative handles, movable again with a plain directory copy (restore it with claim mode NO_CLAIM)'
            cand --bwlimit 'One byte budget for the whole run: bytes/s with K, M, G (powers of 1024), or a timetable "08:00,10M 20:00,off"'
            cand --verify 'standard: size, and the MD5 the destination reports where it has one. full: also read every copied file back and compare its CRC32C'
            cand --plan-out 'Write the data files as a `source,target` CSV (for distcp, s5cmd, rclone, azcopy); then publish with `flink-chk relocate`'
            cand --journal 'The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl]'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --dry-run 'Show the plan (files, bytes, destinations, time at --bwlimit); copy nothing'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;relocate'= {
            cand --map 'Where files recorded under FROM are now (the longest FROM wins)'
            cand --rebase 'Read files recorded under FROM at TO instead, for reading the source'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --dry-run 'Check and show; write nothing'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;replicate'= {
            cand --to 'The replica: a path or URI, PROFILE: (that profile''s roots and storage settings) or PROFILE:PATH [default: the profile''s replication.to]'
            cand --keep 'Replicated checkpoints kept per job; older ones are pruned from the replica [default: the profile''s replication.keep; without either, nothing is pruned]'
            cand --interval 'Time between rounds with --watch: a number with s, m, h or d'
            cand --prune-interval 'With --watch and --keep: prune at most this often (pruning lists the whole replica)'
            cand --promote 'Verify the newest complete replica of JOB (alias or id) and print how to restore it'
            cand --priority 'A job''s priority, 0 to 9 (higher first) [default: the profile''s replication.priorities / priority, else 0]'
            cand --bwlimit 'One byte budget for all jobs: bytes/s with K, M, G (powers of 1024), or a timetable "08:00,10M 20:00,off" [default: the profile''s replication.bwlimit]'
            cand --job-bwlimit 'Each job''s own cap besides the shared budget [default: the profile''s replication.job_bwlimit]'
            cand --control 'A file holding a --bwlimit value, re-read whenever it changes'
            cand --map 'Where files under FROM go (files outside a snapshot''s root)'
            cand --rebase 'Read files recorded under FROM at TO instead'
            cand --verify 'standard: size and the MD5 the replica''s store reports. full: also read every copied file back'
            cand --journal 'The resume journal [default: $XDG_STATE_HOME/flink-chk/copy/<hash of DEST>.jsonl]'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --yes 'Prune without asking (needed to prune when not on a terminal)'
            cand --watch 'Repeat every --interval until SIGINT/SIGTERM'
            cand --status 'Show, per job, the newest source snapshot, the newest published replica, the lag (time and bytes) and what is in flight; copy nothing'
            cand --dry-run 'Show what a round would copy; copy nothing'
            cand --json 'Print JSON (with --watch: one line per round)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;refs'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand export 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;refs;export'= {
            cand --out 'The export file (written beside as FILE.partial, renamed when complete)'
            cand --format 'File format [default: from the extension of --out, .csv or .parquet; else parquet]'
            cand --keep-last 'Completed checkpoints kept per job, at least 1 [default: the profile''s retention.keep_last, else 3]'
            cand --keep 'A snapshot always kept (alias@chk-N, a chk-N/ or savepoint directory). Repeatable; adds to the profile''s retention.keep'
            cand --min-age 'Files younger than this are kept: a whole number with s, m, h or d, as in the profile [default: the profile''s retention.min_age, else 1h]'
            cand --include-savepoint 'A savepoint (directory name) that may be deleted. Repeatable'
            cand --drop-job 'A job (alias or id) that is gone for good: its snapshots are no longer kept, only what other jobs'' kept snapshots reference survives. Repeatable'
            cand --rebase 'Read files recorded under FROM at TO instead (snapshots moved since Flink wrote them). Repeatable'
            cand --inventory 'The storage inventory report the SQL reads (an S3 Inventory manifest.json, a GCS inventory report manifest, an Azure <rule>-manifest.json, an `hdfs oiv -p Delimited` dump, or a CSV or Parquet path,size,last_modified; Parquet reports for spark only); its time is "now" for ages'
            cand --inventory-time 'When the --inventory listing was taken (RFC 3339), for oiv and CSV files [default: the file''s modification time]'
            cand --max-inventory-age 'Refuse an --inventory older than this: a whole number with s, m, h or d'
            cand --emit-sql 'Print the anti-join for this engine: flink (batch SQL), spark, trino. Needs --inventory'
            cand --sql-out 'Write the SQL to FILE instead of stdout'
            cand --sql-refs 'Where the engine reads the export [default: --out as a local file]'
            cand --sql-candidates 'The directory the engine writes the candidates CSV into [default: FILE.candidates beside --out]'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --stopped 'State that no job under the root is running: unreferenced taskowned/ files become candidates and ForSt working directories are allowed'
            cand --json 'Print a JSON summary'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;refs;help'= {
            cand export 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;refs;help;export'= {
        }
        &'flink-chk;refs;help;help'= {
        }
        &'flink-chk;profile'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List profiles'
            cand show 'Show one profile (secrets masked)'
            cand init 'Create the profiles file with one profile (asks on a terminal for what is not given)'
            cand add 'Add a profile to the profiles file (keeps its comments)'
            cand check 'Validate the file and check that a profile''s roots can be listed'
            cand path 'Print the profiles file''s path'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;profile;list'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;profile;show'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;profile;init'= {
            cand --name 'Profile name'
            cand --checkpoints 'Checkpoint root (Flink''s execution.checkpointing.dir / state.checkpoints.dir)'
            cand --savepoints 'Savepoint root (execution.checkpointing.savepoint-dir / state.savepoints.dir)'
            cand --changelog 'Changelog (DSTL) base path (state.changelog.dstl.dfs.base-path)'
            cand --description 'Description'
            cand --s3-endpoint 'S3 endpoint for S3-compatible stores (Flink''s s3.endpoint)'
            cand --s3-region 'S3 region'
            cand --job 'A job alias (repeatable)'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --s3-path-style 'Path-style S3 requests (s3.path.style.access)'
            cand --force 'Overwrite an existing profiles file'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;profile;add'= {
            cand --checkpoints 'Checkpoint root (Flink''s execution.checkpointing.dir / state.checkpoints.dir)'
            cand --savepoints 'Savepoint root (execution.checkpointing.savepoint-dir / state.savepoints.dir)'
            cand --changelog 'Changelog (DSTL) base path (state.changelog.dstl.dfs.base-path)'
            cand --description 'Description'
            cand --s3-endpoint 'S3 endpoint for S3-compatible stores (Flink''s s3.endpoint)'
            cand --s3-region 'S3 region'
            cand --job 'A job alias (repeatable)'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --s3-path-style 'Path-style S3 requests (s3.path.style.access)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;profile;check'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;profile;path'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;profile;help'= {
            cand list 'List profiles'
            cand show 'Show one profile (secrets masked)'
            cand init 'Create the profiles file with one profile (asks on a terminal for what is not given)'
            cand add 'Add a profile to the profiles file (keeps its comments)'
            cand check 'Validate the file and check that a profile''s roots can be listed'
            cand path 'Print the profiles file''s path'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;profile;help;list'= {
        }
        &'flink-chk;profile;help;show'= {
        }
        &'flink-chk;profile;help;init'= {
        }
        &'flink-chk;profile;help;add'= {
        }
        &'flink-chk;profile;help;check'= {
        }
        &'flink-chk;profile;help;path'= {
        }
        &'flink-chk;profile;help;help'= {
        }
        &'flink-chk;uid'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand --json 'Print JSON: `[{"uid": ..., "operator_id": ...}]`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;completions'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;generate'= {
            cand --out-dir 'Output directory'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -p 'Profile to use (default: the `default:` of the profiles file)'
            cand --profile 'Profile to use (default: the `default:` of the profiles file)'
            cand --config 'Profiles file [default: $XDG_CONFIG_HOME/flink-chk/profiles.yaml or ~/.config/flink-chk/profiles.yaml]'
            cand --concurrency 'Storage requests in flight at once [default: the profile''s storage.concurrency, else 32]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;help'= {
            cand inspect 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
            cand ls 'List jobs under a checkpoints root (job id, alias, checkpoints, latest completed, in progress, bytes, age), or one job''s checkpoints and savepoints (id, time, kind, size, whether the _metadata is readable, and with --verify whether every file each one needs is there)'
            cand deps 'What a snapshot depends on: its own files, the job''s shared/ and taskowned/ files, other jobs'' files (restore lineage), file-merging and changelog files, inline state'
            cand diff 'Compare two snapshots and give the restore verdict: will Flink restore OLD into the job that NEW (a snapshot of it) or --job FILE describes?'
            cand why 'Which snapshots reference a file, or anything under a directory'
            cand safe-to-delete 'Clean up checkpoint storage: plan what no kept snapshot needs, show it, ask, re-check, delete'
            cand copy 'Copy snapshots with everything they need to another root, cluster or bucket, rewriting the paths in `_metadata`'
            cand relocate 'Write a snapshot''s rewritten `_metadata` for data another tool already moved (distcp, rclone, `cp -r`, bucket replication)'
            cand replicate 'Keep a restorable standby copy of every job''s newest snapshots at another root, cluster or bucket'
            cand refs 'Reference sets of kept snapshots, for engines that run the cleanup''s anti-join at scale'
            cand profile 'Manage profiles: named environments with checkpoint and savepoint roots, storage settings, job aliases and retention'
            cand uid 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
            cand completions 'Print a shell completion script to stdout'
            cand generate 'Generate completion scripts and man pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;help;inspect'= {
        }
        &'flink-chk;help;ls'= {
        }
        &'flink-chk;help;deps'= {
        }
        &'flink-chk;help;diff'= {
        }
        &'flink-chk;help;why'= {
        }
        &'flink-chk;help;safe-to-delete'= {
        }
        &'flink-chk;help;copy'= {
        }
        &'flink-chk;help;relocate'= {
        }
        &'flink-chk;help;replicate'= {
        }
        &'flink-chk;help;refs'= {
            cand export 'Write every file the kept snapshots reference (canonical paths, as safe-to-delete compares them) and the kept snapshot directories, as Parquet or CSV: columns kind (ref | kept_dir), path, snapshot'
        }
        &'flink-chk;help;refs;export'= {
        }
        &'flink-chk;help;profile'= {
            cand list 'List profiles'
            cand show 'Show one profile (secrets masked)'
            cand init 'Create the profiles file with one profile (asks on a terminal for what is not given)'
            cand add 'Add a profile to the profiles file (keeps its comments)'
            cand check 'Validate the file and check that a profile''s roots can be listed'
            cand path 'Print the profiles file''s path'
        }
        &'flink-chk;help;profile;list'= {
        }
        &'flink-chk;help;profile;show'= {
        }
        &'flink-chk;help;profile;init'= {
        }
        &'flink-chk;help;profile;add'= {
        }
        &'flink-chk;help;profile;check'= {
        }
        &'flink-chk;help;profile;path'= {
        }
        &'flink-chk;help;uid'= {
        }
        &'flink-chk;help;completions'= {
        }
        &'flink-chk;help;generate'= {
        }
        &'flink-chk;help;help'= {
        }
    ]
    $completions[$command]
}


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
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand inspect 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
            cand uid 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
            cand completions 'Print a shell completion script to stdout'
            cand generate 'Generate completion scripts and man pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;inspect'= {
            cand --uids 'A file of uids (one per line) to name operators whose metadata carries no uid (files written before Flink 2.0)'
            cand --rebase 'Rewrite absolute paths starting with FROM to start with TO (for snapshots moved since they were written). Repeatable'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand --states 'Also list each operator''s state names and kinds (reads the headers of state files; operator-state names come from `_metadata` itself)'
            cand --files 'Also list every referenced file (resolved location, size recorded in the handle, handle kind, operator and subtask)'
            cand --json 'Print JSON (the full parsed model plus derived fields) instead of tables'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;uid'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand --json 'Print JSON: `[{"uid": ..., "operator_id": ...}]`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;completions'= {
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;generate'= {
            cand --out-dir 'Output directory'
            cand --color 'When to use colour: auto (a terminal and NO_COLOR unset), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'flink-chk;help'= {
            cand inspect 'Show what a checkpoint or savepoint holds: format version, checkpoint id, kind, and per operator its id, uid, name, parallelism, state size and handle kinds'
            cand uid 'Print the OperatorID Flink derives from each uid (murmur3_128 of the uid), to match operators in a snapshot to the uids set in the job'
            cand completions 'Print a shell completion script to stdout'
            cand generate 'Generate completion scripts and man pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flink-chk;help;inspect'= {
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

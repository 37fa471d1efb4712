from authorkit.cli import main

main()

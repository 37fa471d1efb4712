from authorkit.entry import main

main()

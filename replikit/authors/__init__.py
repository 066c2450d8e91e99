"""The original authors: the contacts log, mail, and the lab's Zotero library."""

-- The conversations (Rasa tracker store) live in a database of their own.
CREATE DATABASE rasa OWNER aftersales;
